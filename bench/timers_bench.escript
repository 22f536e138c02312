#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% timers_bench.escript [N] -- Erlang doing what bench/gt_timers.c does, with
%% the same output ("NAME VALUE" lines):
%%   start   ns per erlang:send_after/3 of a timer due in 10..20 s, N pending
%%   mem     bytes per pending timer (erlang:memory(total) after - before, / N)
%%   read    ns per erlang:read_timer/1
%%   cancel  ns per erlang:cancel_timer/1
%%   fire    ns per timer from starting N timers due in 0..100 ms to the
%%           receipt of the last message
-mode(compile).

main(Args) ->
    N = case Args of [A] -> list_to_integer(A); [] -> 100000 end,
    Self = self(),
    Seq = lists:seq(0, N - 1),
    M0 = erlang:memory(total),
    T0 = erlang:monotonic_time(nanosecond),
    Refs = [erlang:send_after(10000 + I rem 10000, Self, {tick, I}) || I <- Seq],
    T1 = erlang:monotonic_time(nanosecond),
    M1 = erlang:memory(total),
    _ = [erlang:read_timer(R) || R <- Refs],
    T2 = erlang:monotonic_time(nanosecond),
    _ = [erlang:cancel_timer(R) || R <- Refs],
    T3 = erlang:monotonic_time(nanosecond),
    _ = [erlang:send_after(I rem 100, Self, {tick, I}) || I <- Seq],
    wait(N),
    T4 = erlang:monotonic_time(nanosecond),
    io:format("start ~w~n", [round((T1 - T0) / N)]),
    io:format("mem ~w~n", [round((M1 - M0) / N)]),
    io:format("read ~w~n", [round((T2 - T1) / N)]),
    io:format("cancel ~w~n", [round((T3 - T2) / N)]),
    io:format("fire ~w~n", [round((T4 - T3) / N)]).

wait(0) -> ok;
wait(K) -> receive {tick, _} -> wait(K - 1) end.
