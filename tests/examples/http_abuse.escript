#!/usr/bin/env escript
%% Requests a server facing the internet must refuse (issue 7 item 16),
%% sent raw with gen_tcp to examples/http_server (run with
%% --header-timeout 1000).  Each case checks the status of the only answer
%% and that the server then closes; nginx answers the same.  Prints "ok" or
%% "FAIL" lines.
-mode(compile).

main([PortS]) ->
    Port = list_to_integer(PortS),
    Cases = [
        {"cl_suffix", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5abc\r\n\r\nhello"], 400},
        {"cl_plus", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello"], 400},
        {"cl_negative", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"], 400},
        {"cl_empty", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n"], 400},
        {"cl_list", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello"], 400},
        {"cl_two_values",
         ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"], 400},
        {"cl_repeated_equal",
         ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"], 400},
        {"cl_with_te",
         ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
          "0\r\n\r\n"], 400},
        {"te_with_cl",
         ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
          "0\r\n\r\n"], 400},
        {"chunked", ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n0\r\n\r\n"], 411},
        {"te_gzip", ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"], 501},
        {"too_large", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n"], 413},
        {"malformed_header", ["GET / HTTP/1.1\r\nHost x\r\n\r\n"], 400},
        {"smuggled_get",
         ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 33\r\n\r\n"
          "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"], 400},
        {"long_uri", ["GET /" ++ lists:duplicate(9000, $a) ++ " HTTP/1.1\r\nHost: x\r\n\r\n"], 414},
        {"long_header", ["GET / HTTP/1.1\r\nHost: x\r\nX-Big: " ++ lists:duplicate(9000, $a)
                         ++ "\r\n\r\n"], 431},
        {"many_headers", ["GET / HTTP/1.1\r\n" ++ lists:duplicate(120, "X-A: b\r\n") ++ "\r\n"], 431},
        {"slowloris", slow_headers(), 408}
    ],
    [run(Port, C) || C <- Cases],
    valid(Port),
    ok.

%% A request line, then a header every 200 ms for 10 s: the head never
%% completes within the 1 s header timeout.
slow_headers() ->
    ["GET / HTTP/1.1\r\n" | [{sleep, 200, "X-Slow: 1\r\n"} || _ <- lists:seq(1, 50)]].

run(Port, {Name, Parts, Want}) ->
    {ok, S} = gen_tcp:connect({127,0,0,1}, Port, [binary, {active, false}, {packet, raw}]),
    Sender = spawn(fun() -> send_parts(S, Parts) end),
    {Got, Closed} = read_all(S, <<>>, erlang:monotonic_time(millisecond) + 10000),
    exit(Sender, kill),
    gen_tcp:close(S),
    Status = status(Got),
    Answers = length(binary:matches(Got, <<"HTTP/1.1 ">>)),
    if
        Status =/= Want ->
            io:format("FAIL http:refuse_~s: status ~p, want ~p: ~p~n", [Name, Status, Want, Got]);
        Answers =/= 1 ->
            io:format("FAIL http:refuse_~s: ~b answers, want 1: ~p~n", [Name, Answers, Got]);
        not Closed ->
            io:format("FAIL http:refuse_~s: ~p, then the server did not close within 10 s~n",
                      [Name, Status]);
        true ->
            io:format("ok http:refuse_~s~n", [Name])
    end.

send_parts(_, []) -> ok;
send_parts(S, [{sleep, Ms, Data} | Rest]) ->
    timer:sleep(Ms),
    case gen_tcp:send(S, Data) of ok -> send_parts(S, Rest); _ -> ok end;
send_parts(S, [Data | Rest]) ->
    case gen_tcp:send(S, Data) of ok -> send_parts(S, Rest); _ -> ok end.

%% Everything until the server closes (or resets), or the deadline.
read_all(S, Acc, Deadline) ->
    Left = Deadline - erlang:monotonic_time(millisecond),
    case Left > 0 andalso gen_tcp:recv(S, 0, Left) of
        {ok, D} -> read_all(S, <<Acc/binary, D/binary>>, Deadline);
        {error, closed} -> {Acc, true};
        {error, econnreset} -> {Acc, true};
        _ -> {Acc, false}
    end.

status(<<"HTTP/1.1 ", A, B, C, _/binary>>) -> list_to_integer([A, B, C]);
status(Other) -> {no_status, Other}.

%% After all that, a well-formed request with a body is still served.
valid(Port) ->
    {ok, S} = gen_tcp:connect({127,0,0,1}, Port, [binary, {active, false}, {packet, raw}]),
    ok = gen_tcp:send(S, "POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         "Connection: close\r\n\r\nhello"),
    {Got, _} = read_all(S, <<>>, erlang:monotonic_time(millisecond) + 10000),
    gen_tcp:close(S),
    case {status(Got), binary:match(Got, <<"hello from gentcp: POST /ok\nhello">>)} of
        {200, {_, _}} -> io:format("ok http:valid_after_refusals~n");
        _ -> io:format("FAIL http:valid_after_refusals: ~p~n", [Got])
    end.
