#!/usr/bin/env escript
%% http_flood.escript PORT SERVER_PID N: holds N connections to
%% examples/http_server, which runs with fewer descriptors than that
%% (prlimit), so its acceptor meets emfile (issue 7 items 15, 16).  Checks
%% that the server does not spin while stuck at the limit (CPU from
%% /proc/SERVER_PID/stat over 2 s), then closes them all and checks that a
%% new request is served.  Prints "ok" / "FAIL" lines and "cpu=" (seconds
%% of CPU per second).
-mode(compile).

main([PortS, PidS, NS]) ->
    Port = list_to_integer(PortS),
    N = list_to_integer(NS),
    Socks = [S || {ok, S} <- [gen_tcp:connect({127,0,0,1}, Port, [binary, {active, false}], 5000)
                               || _ <- lists:seq(1, N)]],
    timer:sleep(500), % the acceptor is at the limit by now
    {T0, C0} = {erlang:monotonic_time(millisecond), cpu_ticks(PidS)},
    timer:sleep(2000),
    {T1, C1} = {erlang:monotonic_time(millisecond), cpu_ticks(PidS)},
    Cpu = case is_integer(C0) andalso is_integer(C1) of
              true -> (C1 - C0) / ticks_per_s() / ((T1 - T0) / 1000);
              false -> gone
          end,
    io:format("cpu=~s connections=~b~n", [case Cpu of gone -> "gone"; _ -> float_to_list(Cpu, [{decimals, 2}]) end, length(Socks)]),
    if
        Cpu =:= gone -> io:format("FAIL http:emfile_no_spin: the server is gone~n");
        length(Socks) < N -> io:format("FAIL http:emfile_flood: only ~b of ~b connects~n",
                                       [length(Socks), N]);
        Cpu > 0.5 -> io:format("FAIL http:emfile_no_spin: ~.2f s CPU per s at the fd limit~n", [Cpu]);
        true -> io:format("ok http:emfile_no_spin~n")
    end,
    [gen_tcp:close(S) || S <- Socks],
    case gen_tcp:connect({127,0,0,1}, Port, [binary, {active, false}], 5000) of
        {ok, S} -> after_flood(S);
        Err -> io:format("FAIL http:emfile_serves_again: connect: ~p~n", [Err])
    end.

after_flood(S) ->
    ok = gen_tcp:send(S, "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    Got = read_all(S, <<>>),
    case binary:match(Got, <<"hello from gentcp: GET /after">>) of
        {_, _} -> io:format("ok http:emfile_serves_again~n");
        nomatch -> io:format("FAIL http:emfile_serves_again: ~p~n", [Got])
    end.

read_all(S, Acc) ->
    case gen_tcp:recv(S, 0, 15000) of
        {ok, D} -> read_all(S, <<Acc/binary, D/binary>>);
        _ -> Acc
    end.

%% utime + stime of the process, in clock ticks
cpu_ticks(Pid) ->
    case file:read_file("/proc/" ++ Pid ++ "/stat") of
        {ok, Stat} -> cpu_ticks_of(Stat);
        _ -> gone
    end.

cpu_ticks_of(Stat) ->
    [_, AfterComm] = binary:split(Stat, <<") ">>),
    Fields = binary:split(AfterComm, <<" ">>, [global]),
    %% fields 14 and 15 of stat; the first after ") " is field 3
    binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)).

ticks_per_s() ->
    list_to_integer(string:trim(os:cmd("getconf CLK_TCK"))).
