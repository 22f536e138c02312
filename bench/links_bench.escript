#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% links_bench.escript [N] -- Erlang doing what bench/gt_links.c does, with
%% the same output ("NAME VALUE" lines):
%%   spawn_link  ns per spawn_link/1 of a worker parked in receive (the hub)
%%   link        ns per link/1 to an idle, unlinked process
%%   unlink      ns per unlink/1 of those links
%%   mem         bytes per linked, parked worker (erlang:memory(total) after
%%               - before, / N)
%%   exit        ns per worker from exit(Hub, Reason) to the last worker's
%%               'DOWN' at the driver (the workers die of the link)
-mode(compile).

main(Args) ->
    N = case Args of [A] -> list_to_integer(A); [] -> 10000 end,
    Driver = self(),
    M0 = erlang:memory(total),
    Hub = spawn(fun() -> hub(Driver, N) end),
    {Workers, SpawnUs} = receive {ready, W, T} -> {W, T} end,
    timer:sleep(200),
    M1 = erlang:memory(total),
    Plain = [spawn(fun idle/0) || _ <- lists:seq(1, N)],
    timer:sleep(200),
    {LinkUs, _} = timer:tc(fun() -> [link(P) || P <- Plain] end),
    {UnlinkUs, _} = timer:tc(fun() -> [unlink(P) || P <- Plain] end),
    [exit(P, kill) || P <- Plain],
    [monitor(process, Wk) || Wk <- Workers],
    T0 = erlang:monotonic_time(nanosecond),
    exit(Hub, boom),
    wait_down(N),
    T1 = erlang:monotonic_time(nanosecond),
    io:format("spawn_link ~w~n", [round(SpawnUs * 1000 / N)]),
    io:format("link ~w~n", [round(LinkUs * 1000 / N)]),
    io:format("unlink ~w~n", [round(UnlinkUs * 1000 / N)]),
    io:format("mem ~w~n", [round((M1 - M0) / N)]),
    io:format("exit ~w~n", [round((T1 - T0) / N)]).

hub(Driver, N) ->
    {Us, Ws} = timer:tc(fun() -> [spawn_link(fun idle/0) || _ <- lists:seq(1, N)] end),
    Driver ! {ready, Ws, Us},
    idle().

idle() -> receive _ -> idle() end.

wait_down(0) -> ok;
wait_down(K) -> receive {'DOWN', _, process, _, boom} -> wait_down(K - 1) end.
