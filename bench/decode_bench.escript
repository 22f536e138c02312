#!/usr/bin/env escript
%% -*- erlang -*-
%%! +S 1:1 +SDcpu 1:1 +SDio 1 +sbwt none +sbwtdcpu none +sbwtdio none
%%
%% decode_bench.escript DECODE_BENCH [ROUNDS] -- gt_decode_packet vs
%% erlang:decode_packet/3 on the same inputs in the same run.
%%
%% Takes the cases from `DECODE_BENCH --dump` (NAME STEP TYPE HEX lines,
%% one line per decode call), then for every case alternates ROUNDS times
%% (default 5): time the C side (`DECODE_BENCH NAME`), time the Erlang side
%% in a tight loop.  Both are CPU time and each side keeps its best round,
%% so a busy machine (a sibling hyperthread at work) slows neither side
%% more than the other.  Prints "NAME C_NS ERLANG_NS" per case.
-mode(compile).
%% One scheduler that does not busy-wait, so the VM's CPU time is the loop's.

main([Bin | Rest]) ->
    Rounds = case Rest of [R] -> list_to_integer(R); [] -> 5 end,
    Lines = [string:split(L, " ", all)
             || L <- string:split(os:cmd(Bin ++ " --dump"), "\n", all), L =/= ""],
    Steps = [{Name, ty(T), binary:decode_hex(list_to_binary(H))} || [Name, _, T, H] <- Lines],
    Names = dedup([N || {N, _, _} <- Steps]),
    lists:foreach(
      fun(Name) ->
              Seq = [{T, B} || {N, T, B} <- Steps, N =:= Name],
              [{ok, _, _} = erlang:decode_packet(T, B, []) || {T, B} <- Seq],
              {Cs, Es} = lists:unzip([{c_ns(Bin, Name), time_case(Seq, 1000)}
                                      || _ <- lists:seq(1, Rounds)]),
              io:format("~s ~.1f ~.1f~n", [Name, lists:min(Cs), lists:min(Es)])
      end, Names).

c_ns(Bin, Name) ->
    [_, Ns] = string:split(string:trim(os:cmd(Bin ++ " " ++ Name)), " "),
    list_to_float(Ns).

dedup([]) -> [];
dedup([X | T]) -> [X | dedup([Y || Y <- T, Y =/= X])].

ty("raw") -> raw;
ty(S) -> case string:to_integer(S) of {N, []} -> N; _ -> list_to_atom(S) end.

%% ns of VM CPU time per case (statistics(runtime), ms resolution: >= 100 ms)
time_case(Seq, Iters) ->
    {T0, _} = statistics(runtime),
    loop(Iters, Seq),
    {T1, _} = statistics(runtime),
    Dt = (T1 - T0) * 1000000,
    if Dt >= 100000000 -> Dt / Iters;
       Dt > 10000000 -> time_case(Seq, Iters * 2);
       true -> time_case(Seq, Iters * 10)
    end.

loop(0, _) -> ok;
loop(N, Seq) -> steps(Seq), loop(N - 1, Seq).

steps([]) -> ok;
steps([{T, B} | Rest]) -> _ = erlang:decode_packet(T, B, []), steps(Rest).
