#!/usr/bin/env escript
%% -*- erlang -*-
%% peer.escript -- the real Erlang/OTP side of the gtcat interop tests.
%%
%%   peer.escript echo_client PORT PACKET [TEST...]
%%       gen_tcp clients against an echo server (`gtcat listen --echo`);
%%       runs the named tests (all when none is named) and prints one line
%%       per test: "ok NAME", "FAIL NAME: why" or "skip NAME: why".
%%       PACKET: raw | 1 | 2 | 4 | line.
%%   peer.escript server PACKET MODE [ARG]
%%       listens on 127.0.0.1:0, prints "listening on PORT", serves one
%%       connection, prints "ok" or "FAIL: why" (and "key=value" lines).
%%       MODE expect FILE: receives until the peer shuts down its write side,
%%         checks the packets against FILE's lines (raw: its bytes), then
%%         sends the packets "reply one", "" (not in raw) and "3rd" and closes.
%%       MODE sendfirst: sends those packets at once, then waits for the
%%         peer's EOF, then closes.
%%       MODE rawsink SIZE IN: raw; receives IN bytes while sending SIZE
%%         pseudo-random bytes, then expects EOF and closes; prints
%%         recv_bytes=, recv_sha256=, sent_sha256=, eof=.
%%       MODE sendclose: sends those packets, then closes at once, while
%%         the peer may still have its write side open.
%%       MODE reset: sends those packets, then resets the connection
%%         ({linger, {true, 0}} and close).
%%       With PEER_IPV6=1 in the environment the server listens on ::1.
%%   peer.escript fullbacklog
%%       listens on 127.0.0.1:0 with {backlog, 0}, fills its accept queue
%%       with connections it never accepts, prints "listening on PORT" and
%%       sleeps (30 s at most): a further connect gets no answer.
%%   peer.escript send PORT PACKET PAYLOAD...
%%       connects, sends each argument as one packet, shuts down its write
%%       side, waits (10 s at most) for the peer's close, prints "ok RESULT".
%%   peer.escript free_port
%%       prints a port on 127.0.0.1 that nobody listens on (just closed).
%%
%% All sockets use {inet_backend, inet}.  Tests are bounded: each one runs
%% under its own timeout.
-mode(compile).

-define(TEST_TIMEOUT, 30000).

main(["echo_client", Port, Packet | Tests]) ->
    P = packet(Packet),
    All = tests(P),
    Run = case Tests of [] -> All; _ -> [list_to_atom(T) || T <- Tests] end,
    Fails = [T || T <- Run, run_test(list_to_integer(Port), P, T) =/= ok],
    halt(case Fails of [] -> 0; _ -> 1 end);
main(["server", Packet, Mode | Args]) ->
    try server(packet(Packet), list_to_atom(Mode), Args) of
        ok -> io:format("ok~n"), halt(0);
        {fail, Why} -> io:format("FAIL: ~s~n", [Why]), halt(1)
    catch C:R:St ->
        io:format("FAIL: ~p:~p ~p~n", [C, R, St]), halt(1)
    end;
main(["send", Port, Packet | Payloads]) ->
    S = connect(list_to_integer(Port), packet(Packet)),
    [ok = gen_tcp:send(S, list_to_binary(M)) || M <- Payloads],
    ok = gen_tcp:shutdown(S, write),
    R = gen_tcp:recv(S, 0, 10000),
    gen_tcp:close(S),
    io:format("ok ~p~n", [R]),
    halt(0);
main(["fullbacklog"]) ->
    {ok, L} = gen_tcp:listen(0, [{inet_backend, inet}, {ip, {127,0,0,1}}, {backlog, 0}]),
    {ok, Port} = inet:port(L),
    %% the kernel queues backlog + 1 connections; a few more to be sure,
    %% each with a short timeout (the last ones do not complete)
    _ = [gen_tcp:connect({127,0,0,1}, Port, [], 300) || _ <- lists:seq(1, 4)],
    io:format("listening on ~b~n", [Port]),
    timer:sleep(30000);
main(["free_port"]) ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127,0,0,1}}]),
    {ok, P} = inet:port(L),
    gen_tcp:close(L),
    io:format("~b~n", [P]),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: see the head of peer.escript~n", []),
    halt(2).

packet("raw") -> raw;
packet("0") -> raw;
packet("line") -> line;
packet(N) -> list_to_integer(N).

max_size(1) -> 255;
max_size(2) -> 65535;
max_size(4) -> 16 * 1024 * 1024;
max_size(raw) -> 1024 * 1024;
max_size(line) -> 1024.

tests(_) ->
    [sizes, empty, pipeline, active_once, concurrent, half_close, short_lived].

%% Runs one test in its own process under a timeout and prints its line.
run_test(Port, P, T) ->
    Name = io_lib:format("~s/~s", [pname(P), T]),
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() ->
        R = try test(T, Port, P)
            catch C:E:St -> {fail, io_lib:format("~p:~p at ~p", [C, E, hd(St)])}
            end,
        Self ! {self(), R}
    end),
    Res = receive
              {Pid, R} -> R;
              {'DOWN', Ref, process, Pid, Why} -> {fail, io_lib:format("crashed: ~p", [Why])}
          after ?TEST_TIMEOUT ->
              exit(Pid, kill),
              {fail, io_lib:format("timed out after ~b ms", [?TEST_TIMEOUT])}
          end,
    case Res of
        ok -> io:format("ok ~s~n", [Name]);
        {skip, W} -> io:format("skip ~s: ~s~n", [Name, W]);
        {fail, W} -> io:format("FAIL ~s: ~s~n", [Name, lists:flatten(W)])
    end,
    case Res of {fail, _} -> fail; _ -> ok end.

pname(raw) -> "raw";
pname(line) -> "line";
pname(N) -> "packet" ++ integer_to_list(N).

connect(Port, P) -> connect(Port, P, []).
connect(Port, P, Extra) ->
    {ok, S} = gen_tcp:connect({127,0,0,1}, Port,
                              [{inet_backend, inet}, binary, {active, false},
                               {packet, P} | Extra], 10000),
    S.

%% A payload of N bytes; deterministic, varied content.
payload(N, Seed) when N =< 64 ->
    list_to_binary([(Seed + I) band 255 || I <- lists:seq(1, N)]);
payload(N, Seed) ->
    Block = payload(64, Seed),
    Full = binary:copy(Block, N div 64),
    <<Full/binary, (binary:part(Block, 0, N rem 64))/binary>>.

%% For {packet,line} a "packet" must end in one newline and hold no other.
line_payload(N, Seed) ->
    B = binary:replace(payload(max(N - 1, 0), Seed), <<"\n">>, <<"x">>, [global]),
    <<B/binary, "\n">>.

msg(line, N, Seed) -> line_payload(N, Seed);
msg(_, N, Seed) -> payload(N, Seed).

%% Receives exactly one echo of Msg: one packet, or length(Msg) bytes in raw.
recv_echo(S, raw, Msg) when byte_size(Msg) > 0 ->
    {ok, Got} = gen_tcp:recv(S, byte_size(Msg), 30000),
    Got;
recv_echo(S, _, _) ->
    {ok, Got} = gen_tcp:recv(S, 0, 30000),
    Got.

check(Got, Want, _What) when Got =:= Want -> ok;
check(Got, Want, What) ->
    throw({fail, io_lib:format("~s: got ~b bytes ~s, want ~b bytes ~s", [What,
        byte_size(Got), short(Got), byte_size(Want), short(Want)])}).

short(B) when byte_size(B) =< 16 -> io_lib:format("~w", [B]);
short(B) -> io_lib:format("~w...", [binary:part(B, 0, 16)]).

catching(F) ->
    try F() catch throw:{fail, _} = Fail -> Fail end.

%% ---------------------------------------------------------------- the tests
test(sizes, Port, P) ->
    Max = max_size(P),
    Sizes = lists:usort([S || S <- [1, 2, 3, 100, 254, 255, 256, 1000, 1460, 4096, 65535,
                                   65536, 100000, 1048576, Max], S =< Max]),
    S = connect(Port, P),
    R = catching(fun() ->
        lists:foreach(fun(N) ->
            M = msg(P, N, N),
            ok = gen_tcp:send(S, M),
            check(recv_echo(S, P, M), M, io_lib:format("size ~b", [N]))
        end, Sizes),
        ok
    end),
    gen_tcp:close(S),
    R;

test(empty, Port, P) when P =:= raw; P =:= line ->
    %% no empty packets here: an empty send puts nothing on the wire
    %% (docs/spec/semantics.md rule 37) and must not disturb the stream around it
    S = connect(Port, P),
    R = catching(fun() ->
        M = msg(P, 10, 1),
        ok = gen_tcp:send(S, <<>>),
        ok = gen_tcp:send(S, M),
        ok = gen_tcp:send(S, <<>>),
        check(recv_echo(S, P, M), M, "data between empty sends")
    end),
    gen_tcp:close(S),
    R;
test(empty, Port, P) ->
    S = connect(Port, P),
    R = catching(fun() ->
        %% empty, non-empty, two empties in a row, then non-empty again
        lists:foreach(fun(M) ->
            ok = gen_tcp:send(S, M),
            check(recv_echo(S, P, M), M, "empty packet sequence")
        end, [<<>>, <<"a">>, <<>>, <<>>, <<"bc">>]),
        %% empties pipelined with data
        Ms = [<<>>, <<"x">>, <<>>, <<"yz">>, <<>>],
        [ok = gen_tcp:send(S, M) || M <- Ms],
        [check(recv_echo(S, P, M), M, "pipelined empty packets") || M <- Ms],
        ok
    end),
    gen_tcp:close(S),
    R;

test(pipeline, Port, P) ->
    N = 20000,
    Max = min(max_size(P), 200),
    Msgs = [msg(P, 1 + (I * 37) rem Max, I) || I <- lists:seq(1, N)],
    S = connect(Port, P),
    Self = self(),
    %% send from another process so that neither side's buffers can deadlock
    Sender = spawn_link(fun() -> [ok = gen_tcp:send(S, M) || M <- Msgs], Self ! sent end),
    R = catching(fun() ->
        case P of
            raw ->
                All = iolist_to_binary(Msgs),
                {ok, Got} = gen_tcp:recv(S, byte_size(All), 30000),
                check(Got, All, "20000 pipelined chunks (concatenated)");
            _ ->
                lists:foreach(fun({I, M}) ->
                    check(recv_echo(S, P, M), M, io_lib:format("message ~b of ~b", [I, N]))
                end, lists:zip(lists:seq(1, N), Msgs))
        end,
        receive sent -> ok after 30000 -> throw({fail, "sender did not finish"}) end
    end),
    unlink(Sender),
    gen_tcp:close(S),
    R;

test(active_once, Port, P) ->
    N = 2000,
    Max = min(max_size(P), 300),
    Msgs = [msg(P, 1 + (I * 13) rem Max, I) || I <- lists:seq(1, N)],
    S = connect(Port, P),
    Self = self(),
    Sender = spawn_link(fun() -> [ok = gen_tcp:send(S, M) || M <- Msgs], Self ! sent end),
    R = catching(fun() ->
        Got = active_once_collect(S, P, Msgs, []),
        check(iolist_to_binary(Got), iolist_to_binary(Msgs), "{active,once} stream"),
        receive sent -> ok after 30000 -> throw({fail, "sender did not finish"}) end
    end),
    unlink(Sender),
    gen_tcp:close(S),
    R;

test(concurrent, Port, P) ->
    Clients = 50, PerClient = 200,
    Max = min(max_size(P), 500),
    Self = self(),
    Pids = [spawn_monitor(fun() ->
                R = try
                        S = connect(Port, P),
                        Msgs = [msg(P, 1 + (C * 7 + I * 31) rem Max, C + I)
                                || I <- lists:seq(1, PerClient)],
                        Me = self(),
                        spawn_link(fun() -> [ok = gen_tcp:send(S, M) || M <- Msgs], Me ! sent end),
                        Res = catching(fun() ->
                            [check(recv_echo(S, P, M), M, io_lib:format("client ~b", [C]))
                             || M <- Msgs],
                            receive sent -> ok after 20000 -> throw({fail, "sender stuck"}) end
                        end),
                        gen_tcp:close(S),
                        Res
                    catch Cl:E -> {fail, io_lib:format("client ~b: ~p:~p", [C, Cl, E])}
                    end,
                Self ! {done, self(), R}
            end) || C <- lists:seq(1, Clients)],
    Results = [receive
                   {done, Pid, R} -> R;
                   {'DOWN', Ref, process, Pid, Why} ->
                       {fail, io_lib:format("a client crashed: ~P", [Why, 8])}
               after 25000 -> {fail, "a client got no answer for 25 s"}
               end || {Pid, Ref} <- Pids],
    case [F || {fail, _} = F <- Results] of
        [] -> ok;
        [F | _] = Fs -> {fail, io_lib:format("~b of ~b clients failed; first: ~s",
                                             [length(Fs), Clients, element(2, F)])}
    end;

test(half_close, Port, P) ->
    N = 500,
    Max = min(max_size(P), 1000),
    Msgs = [msg(P, 1 + (I * 101) rem Max, I) || I <- lists:seq(1, N)],
    S = connect(Port, P, [{exit_on_close, false}]),
    [ok = gen_tcp:send(S, M) || M <- Msgs],
    ok = gen_tcp:shutdown(S, write),
    R = catching(fun() ->
        Got = recv_until_closed(S, []),
        check(iolist_to_binary(Got), iolist_to_binary(Msgs), "echoes after shutdown(write)"),
        case P of
            raw -> ok;
            _ -> length(Got) =:= N orelse
                     throw({fail, io_lib:format("~b packets, want ~b", [length(Got), N])}),
                 ok
        end
    end),
    gen_tcp:close(S),
    R;

test(short_lived, Port, P) ->
    N = 300,
    Res = lists:map(fun(I) ->
        try
            S = connect(Port, P),
            M = msg(P, 1 + I rem 100, I),
            ok = gen_tcp:send(S, M),
            R = catching(fun() -> check(recv_echo(S, P, M), M, io_lib:format("conn ~b", [I])) end),
            gen_tcp:close(S),
            R
        catch C:E -> {fail, io_lib:format("conn ~b: ~p:~p", [I, C, E])}
        end
    end, lists:seq(1, N)),
    case [F || {fail, _} = F <- Res] of
        [] -> ok;
        [F | _] = Fs -> {fail, io_lib:format("~b of ~b connections failed; first: ~s",
                                             [length(Fs), N, element(2, F)])}
    end.

active_once_collect(S, P, Msgs, Acc) ->
    Want = iolist_size(Msgs),
    case iolist_size(Acc) of
        Have when Have >= Want -> lists:reverse(Acc);
        _ ->
            ok = inet:setopts(S, [{active, once}]),
            receive
                {tcp, S, D} -> active_once_collect(S, P, Msgs, [D | Acc]);
                {tcp_closed, S} -> throw({fail, "closed early"});
                {tcp_error, S, E} -> throw({fail, io_lib:format("tcp_error ~p", [E])})
            after 30000 -> throw({fail, "no data for 30 s"})
            end
    end.

recv_until_closed(S, Acc) ->
    case gen_tcp:recv(S, 0, 30000) of
        {ok, D} -> recv_until_closed(S, [D | Acc]);
        {error, closed} -> lists:reverse(Acc);
        {error, E} -> throw({fail, io_lib:format("recv: ~p after ~b packets", [E, length(Acc)])})
    end.

%% ---------------------------------------------------------------- server side
replies(raw) -> [<<"reply one">>, <<"3rd">>];
replies(_) -> [<<"reply one">>, <<>>, <<"3rd">>].

server(P, Mode, Args) ->
    Ip = case os:getenv("PEER_IPV6") of
             "1" -> [inet6, {ip, {0,0,0,0,0,0,0,1}}];
             _ -> [{ip, {127,0,0,1}}]
         end,
    {ok, L} = gen_tcp:listen(0, [{inet_backend, inet}, binary, {active, false},
                                 {reuseaddr, true}, {packet, P}, {exit_on_close, false} | Ip]),
    {ok, Port} = inet:port(L),
    io:format("listening on ~b~n", [Port]),
    {ok, S} = gen_tcp:accept(L, 30000),
    gen_tcp:close(L),
    R = serve(Mode, S, P, Args),
    gen_tcp:close(S),
    R.

serve(expect, S, P, [File]) ->
    {ok, Bin} = file:read_file(File),
    Got = recv_until_closed(S, []),
    Want = case P of
               raw -> [Bin];
               _ -> case binary:split(Bin, <<"\n">>, [global]) of
                        Ls when Bin =:= <<>> -> Ls -- [<<>>];
                        Ls -> case lists:last(Ls) of
                                  <<>> -> lists:droplast(Ls);
                                  _ -> Ls
                              end
                    end
           end,
    timer:sleep(300), % gtcat must still be there, waiting for our close
    [ok = gen_tcp:send(S, M) || M <- replies(P)],
    Ok = case P of
             raw -> iolist_to_binary(Got) =:= Bin;
             _ -> Got =:= Want
         end,
    case Ok of
        true -> ok;
        false ->
            {fail, io_lib:format("received ~b packets (~b bytes), want ~b (~b bytes); first got ~s",
                                 [length(Got), iolist_size(Got), length(Want), iolist_size(Want),
                                  case Got of [G | _] -> short(G); [] -> "none" end])}
    end;
serve(sendclose, S, P, []) ->
    [ok = gen_tcp:send(S, M) || M <- replies(P)],
    ok;
serve(reset, S, P, []) ->
    [ok = gen_tcp:send(S, M) || M <- replies(P)],
    timer:sleep(200), % delivered before the RST
    ok = inet:setopts(S, [{linger, {true, 0}}]),
    ok;
serve(sendfirst, S, P, []) ->
    [ok = gen_tcp:send(S, M) || M <- replies(P)],
    case recv_until_closed(S, []) of
        [] -> ok;
        Got -> {fail, io_lib:format("unexpected data: ~b packets", [length(Got)])}
    end;
serve(rawsink, S, raw, [SizeS, InS]) ->
    %% The peer's EOF is read only after our sending is done: inet reports a
    %% send racing with a read of EOF as {error, closed} even with
    %% {exit_on_close, false}.
    Size = list_to_integer(SizeS),
    In = list_to_integer(InS),
    Self = self(),
    spawn_link(fun() ->
        Ctx = send_random(S, Size, 1, crypto:hash_init(sha256)),
        Self ! {sent, crypto:hash_final(Ctx)}
    end),
    {N, RCtx} = recv_hash(S, In, 0, crypto:hash_init(sha256)),
    Sent = receive {sent, H} -> H after 60000 -> error(send_stuck) end,
    Eof = gen_tcp:recv(S, 0, 30000),
    io:format("recv_bytes=~b~nrecv_sha256=~s~nsent_sha256=~s~neof=~p~n",
              [N, hex(crypto:hash_final(RCtx)), hex(Sent), Eof]),
    case Eof of
        {error, closed} -> ok;
        _ -> {fail, io_lib:format("after ~b bytes: ~p, want {error,closed}", [N, Eof])}
    end.

send_random(_, 0, _, Ctx) -> Ctx;
send_random(S, Left, I, Ctx) ->
    Chunk = crypto:hash(sha512, <<I:64>>),  % 64 pseudo-random bytes ...
    Block = binary:copy(Chunk, 1000),       % ... repeated into 64000
    B = binary:part(Block, 0, min(Left, byte_size(Block))),
    ok = gen_tcp:send(S, B),
    send_random(S, Left - byte_size(B), I + 1, crypto:hash_update(Ctx, B)).

recv_hash(_, Want, N, Ctx) when N >= Want -> {N, Ctx};
recv_hash(S, Want, N, Ctx) ->
    case gen_tcp:recv(S, 0, 30000) of
        {ok, D} -> recv_hash(S, Want, N + byte_size(D), crypto:hash_update(Ctx, D));
        {error, closed} -> {N, Ctx}
    end.

hex(B) -> [io_lib:format("~2.16.0b", [X]) || <<X>> <= B].
