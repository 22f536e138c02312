#!/usr/bin/env escript
%% msgq_probe.escript -- what the msgq watermarks do on OTP 25 (docs/DEVIATIONS.md 19):
%% 8 processes send 200 x 10 kB each on one inet socket whose peer does not read,
%% with high_watermark 64 MiB so the port is never busy; prints the most senders
%% seen suspended at once for three high_msgq_watermark values.
%% Run: escript tests/interop/msgq_probe.escript
main(_) -> [run(H) || H <- [8192, 1, 1 bsl 26]], ok.
run(HMQ) ->
    {ok,L} = gen_tcp:listen(0,[{active,false},{recbuf,4096}]),
    {ok,P} = inet:port(L),
    {ok,C} = gen_tcp:connect("localhost",P,[{high_watermark,1 bsl 26},{low_watermark,1 bsl 25},{high_msgq_watermark,HMQ},{low_msgq_watermark,min(HMQ,4096)},{sndbuf,4096}]),
    {ok,_A} = gen_tcp:accept(L),
    Self = self(),
    Ps = [spawn(fun() -> [gen_tcp:send(C, binary:copy(<<"x">>,10000)) || _ <- lists:seq(1,200)], Self ! done end) || _ <- lists:seq(1,8)],
    Susp = lists:max([length([x || Pid <- Ps, process_info(Pid,status) =:= {status,suspended}]) || _ <- lists:seq(1,2000)]),
    io:format("high_msgq ~p: max suspended senders seen ~p, queue ~p~n",[HMQ, Susp, erlang:port_info(C,queue_size)]),
    [receive done -> ok after 10000 -> timeout end || _ <- Ps],
    gen_tcp:close(C), gen_tcp:close(L).
