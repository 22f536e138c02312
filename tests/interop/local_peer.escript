#!/usr/bin/env escript
%% -*- erlang -*-
%% local_peer.escript -- the Erlang side of tests/interop/local.sh: gen_tcp
%% over AF_UNIX ({local, Path}) on OTP's own inet backend.
%%
%%   local_peer.escript connect PATH PAYLOAD
%%       connects to {local, PATH} (PATH "@NAME": the abstract <<0, NAME>>),
%%       sends PAYLOAD, reads as many bytes back; prints "peername=local:P" and
%%       "ok" or "FAIL: why".
%%   local_peer.escript listen PATH
%%       listens on {ifaddr, {local, PATH}}, prints "listening", accepts one
%%       connection, receives until the peer shuts down its write side,
%%       answers "erlang got: " ++ what it got, closes; prints "ok" or
%%       "FAIL: why".
%% Every wait is bounded (10 s).
-mode(compile).

addr("@" ++ Name) -> <<0, (list_to_binary(Name))/binary>>;
addr(Path) -> Path.

main(["connect", Path, Payload]) ->
    Bin = list_to_binary(Payload),
    case gen_tcp:connect({local, addr(Path)}, 0, [binary, {active, false}], 10000) of
        {ok, S} ->
            case inet:peername(S) of
                {ok, {local, <<0, N/binary>>}} -> io:format("peername=local:@~s~n", [N]);
                {ok, {local, P}} -> io:format("peername=local:~s~n", [P]);
                Other0 -> io:format("peername=~w~n", [Other0])
            end,
            ok = gen_tcp:send(S, Bin),
            case gen_tcp:recv(S, byte_size(Bin), 10000) of
                {ok, Bin} -> io:format("ok~n");
                Other -> io:format("FAIL: echo ~w~n", [Other])
            end,
            gen_tcp:close(S);
        Err ->
            io:format("FAIL: connect ~w~n", [Err])
    end;
main(["listen", Path]) ->
    {ok, L} = gen_tcp:listen(0, [{ifaddr, {local, addr(Path)}}, binary, {active, false},
                                 {exit_on_close, false}]),
    io:format("listening~n"),
    case gen_tcp:accept(L, 10000) of
        {ok, S} ->
            Got = recv_all(S, <<>>),
            ok = gen_tcp:send(S, <<"erlang got: ", Got/binary>>),
            gen_tcp:close(S),
            io:format("ok~n");
        Err ->
            io:format("FAIL: accept ~w~n", [Err])
    end,
    gen_tcp:close(L).

recv_all(S, Acc) ->
    case gen_tcp:recv(S, 0, 10000) of
        {ok, B} -> recv_all(S, <<Acc/binary, B/binary>>);
        {error, closed} -> Acc;
        {error, R} -> io:format("FAIL: recv ~w~n", [R]), Acc
    end.
