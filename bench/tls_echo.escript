#!/usr/bin/env escript
%% tls_echo.escript CERT KEY -- the Erlang ssl echo server of bench/tls.sh:
%% a process per connection (transport_accept, then handshake in it), raw
%% binary, passive recv/send.  Prints "listening on PORT".
-mode(compile).

main([Cert, Key]) ->
    ok = ssl:start(),
    {ok, L} = ssl:listen(0, [binary, {active, false}, {ip, {127, 0, 0, 1}}, {backlog, 1024},
                            {certfile, Cert}, {keyfile, Key}, {nodelay, true},
                            {reuseaddr, true}]),
    {ok, {_, Port}} = ssl:sockname(L),
    io:format("listening on ~p~n", [Port]),
    accept(L).

accept(L) ->
    {ok, T} = ssl:transport_accept(L),
    spawn(fun() ->
                  case ssl:handshake(T, 10000) of
                      {ok, S} -> echo(S);
                      _ -> ok
                  end
          end),
    accept(L).

echo(S) ->
    case ssl:recv(S, 0) of
        {ok, D} -> ssl:send(S, D), echo(S);
        _ -> ssl:close(S)
    end.
