#!/usr/bin/env escript
%% -*- erlang -*-
%% erl_peer.escript -- the Erlang gen_tcp contenders of the gentcp benchmarks.
%%
%% Speaks the wire protocol of docs/spec/PERF-BASELINES.md.  Usage:
%%
%%   erl_peer.escript MODE key=value...
%%
%%   pp_server     [backend=inet|socket port=0]
%%       passive {packet,4} echo with nodelay, one connection, then exits
%%   stream_server [backend= port=0 active=100|once|N buffer=0]
%%       {active,N} (re-armed on tcp_passive) or {active,once}; counts frames
%%       until the empty one, answers with the 8-byte count frame, exits
%%   echo_server   [backend= port=0 packet=4 n=0 hibernate=0]
%%       a process per connection, {active,once}, echoes every packet
%%       (hibernate=1: erlang:hibernate/3 after each one); runs until killed.  With n>0 it also measures erlang:memory(total) and
%%       its own VmRSS after the first and the n-th accepted connection
%%       (GC every process, 200 ms, GC again) and prints the per-connection
%%       deltas.
%%
%% Every server prints "listening on PORT" first, and "result k=v ..." lines.
-mode(compile).
-export([echo_loop/2]).

main([Mode | Args]) ->
    Opts = [parse_kv(A) || A <- Args],
    try run(list_to_atom(Mode), Opts)
    catch C:R:St ->
        io:format(standard_error, "erl_peer: ~p:~p~n~p~n", [C, R, St]),
        halt(1)
    end,
    halt(0);
main(_) ->
    io:format(standard_error, "usage: erl_peer.escript MODE key=value...~n", []),
    halt(2).

parse_kv(A) ->
    [K, V] = string:split(A, "="),
    {list_to_atom(K), V}.

get(K, Opts, Def) ->
    case lists:keyfind(K, 1, Opts) of
        {K, V} when is_integer(Def) -> list_to_integer(V);
        {K, V} when is_atom(Def) -> list_to_atom(V);
        {K, V} -> V;
        false -> Def
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

listen(Opts, Extra) ->
    B = get(backend, Opts, inet),
    Port = get(port, Opts, 0),
    {ok, L} = gen_tcp:listen(Port, [{inet_backend, B}, binary, {active, false},
                                    {reuseaddr, true}, {ip, {127,0,0,1}},
                                    {backlog, 4096} | Extra]),
    {ok, P} = inet:port(L),
    io:format("listening on ~b~n", [P]),
    L.

%% ---------------------------------------------------------------- pingpong
run(pp_server, Opts) ->
    L = listen(Opts, [{packet, 4}, {nodelay, true}]),
    {ok, S} = gen_tcp:accept(L),
    gen_tcp:close(L),
    {N, T0} = pp_loop(S, 0, 0),
    Dt = (now_ns() - T0) / 1.0e9,
    gen_tcp:close(S),
    io:format("result msgs=~b ops_per_s=~b~n", [N, round(rate(N, Dt))]);

%% ---------------------------------------------------------------- stream
run(stream_server, Opts) ->
    Active = case get(active, Opts, "100") of
                 "once" -> once;
                 A -> list_to_integer(A)
             end,
    Buf = case get(buffer, Opts, 0) of 0 -> []; Bs -> [{buffer, Bs}] end,
    L = listen(Opts, [{packet, 4} | Buf]),
    {ok, S} = gen_tcp:accept(L),
    gen_tcp:close(L),
    ok = inet:setopts(S, [{active, Active}]),
    {Count, T0, T1} = stream_loop(S, Active, 0, 0),
    ok = inet:setopts(S, [{active, false}]),
    ok = gen_tcp:send(S, <<Count:64>>),
    gen_tcp:close(S),
    io:format("result msgs=~b ops_per_s=~b active=~p~n",
              [Count, round(rate(Count, (T1 - T0) / 1.0e9)), Active]);

%% ---------------------------------------------------------------- echo / conns
run(echo_server, Opts) ->
    Packet = case get(packet, Opts, "4") of
                 "raw" -> raw;
                 P -> list_to_integer(P)
             end,
    N = get(n, Opts, 0),
    put(hibernate, get(hibernate, Opts, 0) =:= 1),
    L = listen(Opts, [{packet, Packet}]),
    accept_loop(L, 1, N, undefined).

rate(_, Dt) when Dt =< 0 -> 0.0;
rate(N, Dt) -> N / Dt.

pp_loop(S, N, T0) ->
    case gen_tcp:recv(S, 0) of
        {ok, D} ->
            T = if N =:= 0 -> now_ns(); true -> T0 end,
            ok = gen_tcp:send(S, D),
            pp_loop(S, N + 1, T);
        {error, closed} ->
            {N, T0}
    end.

stream_loop(S, Active, N, T0) ->
    receive
        {tcp, S, <<>>} ->
            {N, T0, now_ns()};
        {tcp, S, _} ->
            T = if N =:= 0 -> now_ns(); true -> T0 end,
            Active =:= once andalso inet:setopts(S, [{active, once}]),
            stream_loop(S, Active, N + 1, T);
        {tcp_passive, S} ->
            ok = inet:setopts(S, [{active, Active}]),
            stream_loop(S, Active, N, T0);
        {tcp_closed, S} ->
            error({closed_before_end_marker, N});
        {tcp_error, S, R} ->
            error({tcp_error, R})
    end.

accept_loop(L, I, N, Base) ->
    {ok, S} = gen_tcp:accept(L),
    Hib = get(hibernate),
    Pid = spawn(fun() -> receive go -> ok end, echo_init(S, Hib) end),
    ok = gen_tcp:controlling_process(S, Pid),
    Pid ! go,
    Base1 = if
                N > 0, I =:= 1 -> measure();
                N > 0, I =:= N ->
                    {M1, R1} = measure(),
                    {M0, R0} = Base,
                    io:format("result n=~b erl_mem_per_conn_b=~.1f rss_per_conn_b=~.1f~n",
                              [N, (M1 - M0) / (N - 1), (R1 - R0) / (N - 1)]),
                    Base;
                true -> Base
            end,
    accept_loop(L, I + 1, N, Base1).

echo_init(S, Hib) ->
    ok = inet:setopts(S, [{active, once}]),
    echo_loop(S, Hib).

echo_loop(S, Hib) ->
    receive
        {tcp, S, D} ->
            ok = gen_tcp:send(S, D),
            ok = inet:setopts(S, [{active, once}]),
            case Hib of
                true -> erlang:hibernate(?MODULE, echo_loop, [S, Hib]);
                false -> echo_loop(S, Hib)
            end;
        {tcp_closed, S} ->
            ok;
        {tcp_error, S, _} ->
            gen_tcp:close(S)
    end.

%% Settles as the baseline harness does and returns {erlang:memory(total), VmRSS bytes}.
measure() ->
    timer:sleep(200),
    [erlang:garbage_collect(P) || P <- processes()],
    timer:sleep(200),
    [erlang:garbage_collect(P) || P <- processes()],
    {erlang:memory(total), vmrss()}.

vmrss() ->
    {ok, B} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(B, <<"\n">>, [global]),
                   binary:part(L, 0, min(6, byte_size(L))) =:= <<"VmRSS:">>],
    [_, Kb | _] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
    binary_to_integer(Kb) * 1024.
