#!/usr/bin/env escript
%% Erlang's httpc against examples/http_server: a GET and a POST on one
%% keep-alive connection.  Prints "ok" lines or "FAIL" lines.
main([Port]) ->
    ok = application:start(inets),
    Base = "http://127.0.0.1:" ++ Port,
    R1 = httpc:request(get, {Base ++ "/erl", []}, [{timeout, 5000}], []),
    check("httpc_get", R1, "hello from gentcp: GET /erl\n"),
    R2 = httpc:request(post, {Base ++ "/p", [], "text/plain", "erlang body"},
                       [{timeout, 5000}], []),
    check("httpc_post", R2, "hello from gentcp: POST /p\nerlang body").

check(Name, {ok, {{_, 200, _}, _Headers, Body}}, Body) ->
    io:format("ok http:~s~n", [Name]);
check(Name, Other, Want) ->
    io:format("FAIL http:~s: got ~p, want body ~p~n", [Name, Other, Want]).
