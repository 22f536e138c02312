#!/usr/bin/env escript
%% tls_peer.escript -- the Erlang ssl side of tests/interop/tls.sh.
%%
%%   client PORT PACKET VERSION CAFILE   connects to 127.0.0.1:PORT as
%%       "localhost" (verify_peer, SNI), sends packets of several sizes and
%%       checks that each comes back (raw: the bytes, in order); prints
%%       "ok NAME" / "FAIL NAME: why" lines.
%%   server PACKET VERSION CERT KEY      listens on 127.0.0.1 port 0, prints
%%       "listening on PORT", then transport_accept + handshake and echoes
%%       one connection until it closes; prints "served N" at the end.
%% PACKET: raw | 1 | 2 | 4; VERSION: tlsv1.2 | tlsv1.3.
-mode(compile).

main(["client", Port, Packet, Version, CA]) ->
    ok = ssl:start(),
    client(list_to_integer(Port), packet(Packet), list_to_atom(Version), CA);
main(["server", Packet, Version, Cert, Key]) ->
    ok = ssl:start(),
    server(packet(Packet), list_to_atom(Version), Cert, Key);
main(_) ->
    io:format("usage: tls_peer.escript client PORT PACKET VERSION CAFILE |"
              " server PACKET VERSION CERT KEY~n"),
    halt(2).

packet("raw") -> 0;
packet(P) -> list_to_integer(P).

sizes(1) -> [1, 10, 255];
sizes(_) -> [1, 100, 1000, 16384, 100000].

payload(N) -> list_to_binary([I rem 251 || I <- lists:seq(1, N)]).

client(Port, Packet, Version, CA) ->
    Name = io_lib:format("interop/tls/erlang-client-packet-~p-~s", [Packet, Version]),
    Opts = [binary, {packet, Packet}, {active, false}, {verify, verify_peer},
            {cacertfile, CA}, {server_name_indication, "localhost"},
            {versions, [Version]}],
    case ssl:connect("127.0.0.1", Port, Opts, 10000) of
        {ok, S} ->
            {ok, Info} = ssl:connection_information(S, [protocol]),
            Got = proplists:get_value(protocol, Info),
            Res = [roundtrip(S, Packet, payload(N)) || N <- sizes(Packet)],
            ssl:close(S),
            case lists:usort(Res) of
                [ok] when Got =:= Version -> io:format("ok ~s~n", [Name]);
                [ok] -> io:format("FAIL ~s: negotiated ~p~n", [Name, Got]);
                _ -> io:format("FAIL ~s: ~p~n", [Name, [R || R <- Res, R =/= ok]])
            end;
        {error, Why} ->
            io:format("FAIL ~s: connect: ~p~n", [Name, Why])
    end.

roundtrip(S, 0, Data) ->
    ok = ssl:send(S, Data),
    recv_exact(S, byte_size(Data), Data, <<>>);
roundtrip(S, _, Data) ->
    ok = ssl:send(S, Data),
    case ssl:recv(S, 0, 10000) of
        {ok, Data} -> ok;
        Other -> {bad_echo, byte_size(Data), short(Other)}
    end.

recv_exact(_, N, Want, Acc) when byte_size(Acc) >= N ->
    case Acc of Want -> ok; _ -> {bad_raw_echo, byte_size(Acc)} end;
recv_exact(S, N, Want, Acc) ->
    case ssl:recv(S, 0, 10000) of
        {ok, B} -> recv_exact(S, N, Want, <<Acc/binary, B/binary>>);
        Other -> {raw_recv, byte_size(Acc), Other}
    end.

short({ok, B}) when byte_size(B) > 20 -> {ok, byte_size(B)};
short(X) -> X.

server(Packet, Version, Cert, Key) ->
    {ok, L} = ssl:listen(0, [binary, {packet, Packet}, {active, false}, {ip, {127, 0, 0, 1}},
                            {certfile, Cert}, {keyfile, Key}, {versions, [Version]},
                            {reuseaddr, true}]),
    {ok, {_, Port}} = ssl:sockname(L),
    io:format("listening on ~p~n", [Port]),
    {ok, T} = ssl:transport_accept(L, 30000),
    case ssl:handshake(T, 10000) of
        {ok, S} -> io:format("served ~p~n", [echo(S, 0)]);
        {error, Why} -> io:format("handshake failed: ~p~n", [Why])
    end.

echo(S, N) ->
    case ssl:recv(S, 0, 30000) of
        {ok, D} -> ok = ssl:send(S, D), echo(S, N + 1);
        {error, _} -> ssl:close(S), N
    end.
