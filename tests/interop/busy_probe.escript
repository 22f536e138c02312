#!/usr/bin/env escript
%% -*- erlang -*-
%% busy_probe.escript -- what OTP's inet driver does around a busy send
%% queue (docs/spec/semantics.md rules 32-34, 43, 55; issue 7 items 1, 6, 7).
%%
%%   escript tests/interop/busy_probe.escript [CASE...]
%%
%% Prints one line per observation, "CASE: what = result (ms since the
%% case began)".  Cases (all when none is named): big_first,
%% big_first_close, delay_send, three, three_timeout, three_timeout_close,
%% second_waits, peer_gone, peer_gone_econnreset, peer_gone_reader,
%% close_other (takes ~5 s: close's drain stalls), close_other_abort,
%% owner_exit.  A probe, not a test: it checks nothing.  Everything runs on 127.0.0.1 with {inet_backend, inet};
%% S is the socket under test, P its peer, which reads only when told.
%% The results pinned by tests/integ/send_test.c and close_test.c
%% (i7_* tests) were read from this script's output on OTP 25.
-mode(compile).

main([]) ->
    main(["big_first", "big_first_close", "three", "second_waits", "peer_gone", "peer_gone_econnreset",
          "peer_gone_reader", "close_other", "close_other_abort", "delay_send",
          "three_timeout", "three_timeout_close", "owner_exit"]);
main(Cases) ->
    [run(list_to_atom(C)) || C <- Cases],
    halt(0).

run(Case) ->
    Self = self(),
    Pid = spawn(fun() -> put(t0, now_ms()), put(case_name, Case), probe(Case), Self ! done end),
    receive done -> ok after 30000 -> exit(Pid, kill), io:format("~p: TIMEOUT~n", [Case]) end.

now_ms() -> erlang:monotonic_time(millisecond).
say(What, R) -> io:format("~p: ~s = ~p (~b ms)~n", [get(case_name), What, R, now_ms() - get(t0)]).

%% S with Opts (small kernel buffers, so the driver queue fills), and P.
pair(Opts) ->
    {ok, L} = gen_tcp:listen(0, [{inet_backend, inet}, {ip, {127,0,0,1}}, binary,
                                 {active, false}, {recbuf, 16384}]),
    {ok, Port} = inet:port(L),
    {ok, S} = gen_tcp:connect({127,0,0,1}, Port, [{inet_backend, inet}, binary,
                                                  {active, false}, {sndbuf, 16384} | Opts]),
    {ok, P} = gen_tcp:accept(L, 2000),
    gen_tcp:close(L),
    {S, P}.

pend(S) ->
    case inet:getstat(S, [send_pend]) of {ok, [{send_pend, N}]} -> N; E -> E end.

%% A process that sends Data on S and reports the result as {Tag, R}.
sender(S, Tag, Data) ->
    Self = self(),
    spawn(fun() -> R = gen_tcp:send(S, Data), Self ! {Tag, R} end).

%% Collects {Tag, R} messages for up to T ms, printing each.
collect(T) ->
    receive {Tag, R} when is_atom(Tag) -> say(atom_to_list(Tag), R), collect(T)
    after T -> ok end.

drain(P, N) -> drain(P, N, 0).
drain(_, N, Got) when Got >= N -> Got;
drain(P, N, Got) ->
    case gen_tcp:recv(P, 0, 1000) of
        {ok, B} -> drain(P, N, Got + byte_size(B));
        _ -> Got
    end.

mb() -> binary:copy(<<"x">>, 1048576).

%% item 1: one big send onto an empty queue, then a small one.
probe(big_first) -> big_first([{send_timeout, 200}]);
probe(big_first_close) -> big_first([{send_timeout, 200}, {send_timeout_close, true}]);
probe(delay_send) -> big_first([{send_timeout, 200}, {delay_send, true}]);
%% item 1: three processes send 1 MB each onto an empty queue.
probe(three) ->
    {S, P} = pair([]),
    sender(S, s1, mb()), timer:sleep(100),
    sender(S, s2, mb()), timer:sleep(100),
    sender(S, s3, mb()),
    collect(500),
    say("pend before drain", pend(S)),
    say("drained", drain(P, 3 * 1048576)),
    collect(500);
probe(three_timeout) ->
    {S, P} = pair([{send_timeout, 300}]),
    sender(S, s1, mb()), timer:sleep(50),
    sender(S, s2, <<"a">>), timer:sleep(50),
    sender(S, s3, <<"b">>),
    collect(1500),
    say("pend", pend(S)),
    say("drained", drain(P, 1048576 + 2)),
    collect(200);
probe(three_timeout_close) ->
    {S, P} = pair([{send_timeout, 300}, {send_timeout_close, true}]),
    sender(S, s1, mb()), timer:sleep(50),
    sender(S, s2, <<"a">>), timer:sleep(50),
    sender(S, s3, <<"b">>),
    collect(1000),
    say("send after", gen_tcp:send(S, <<"c">>)),
    gen_tcp:close(P);
%% item 7: while one sender waits for low_watermark, the queue falls
%% between the marks: does a second sender wait too?
probe(second_waits) ->
    {S, P} = pair([{high_watermark, 100000}, {low_watermark, 50000}]),
    say("send 300000", gen_tcp:send(S, binary:copy(<<"y">>, 300000))),
    sender(S, a, <<"a">>),
    collect(200),
    Pend = pend(S),
    say("pend", Pend),
    %% read until the queue is about halfway between the marks
    say("read", drain(P, Pend - 75000)),
    timer:sleep(100),
    say("pend between marks", pend(S)),
    sender(S, b, <<"b">>),
    collect(300),
    say("drained", drain(P, 1000000)),
    collect(300);
%% item 6: a blocked sender (and one suspended behind it) when the peer
%% resets; then the sends and recvs after it.
probe(peer_gone) -> peer_gone([]);
probe(peer_gone_econnreset) -> peer_gone([{show_econnreset, true}]);
probe(peer_gone_reader) ->
    {S, P} = pair([]),
    say("send 1MB", gen_tcp:send(S, mb())),
    sender(S, a, <<"a">>),
    Self = self(),
    spawn(fun() -> Self ! {r, gen_tcp:recv(S, 0)} end),
    collect(200),
    gen_tcp:close(P), %% unread data: the kernel answers with RST
    collect(500),
    say("send 1", gen_tcp:send(S, <<"c">>)),
    say("send 2", gen_tcp:send(S, <<"d">>)),
    say("recv 1", gen_tcp:recv(S, 0, 200)),
    say("recv 2", gen_tcp:recv(S, 0, 200));
%% blocked senders when another process closes S.
probe(close_other) ->
    {S, P} = pair([]),
    say("send 1MB", gen_tcp:send(S, mb())),
    sender(S, a, <<"a">>), timer:sleep(50),
    sender(S, b, <<"b">>),
    collect(200),
    say("close", gen_tcp:close(S)),
    collect(300),
    say("send after", gen_tcp:send(S, <<"c">>)),
    gen_tcp:close(P);
%% blocked senders when the owner of S exits.
probe(owner_exit) ->
    Self = self(),
    Owner = spawn(fun() ->
        {S, P} = pair([]),
        Self ! {sock, S, P},
        receive die -> ok end
    end),
    {S, P} = receive {sock, S0, P0} -> {S0, P0} end,
    say("send 1MB", gen_tcp:send(S, mb())),
    sender(S, a, <<"a">>), timer:sleep(50),
    sender(S, b, <<"b">>),
    collect(200),
    Owner ! die,
    collect(3000),
    say("send after", gen_tcp:send(S, <<"c">>)),
    gen_tcp:close(P);
probe(close_other_abort) ->
    {S, P} = pair([{linger, {true, 0}}]),
    say("send 1MB", gen_tcp:send(S, mb())),
    sender(S, a, <<"a">>), timer:sleep(50),
    sender(S, b, <<"b">>),
    collect(200),
    say("close", gen_tcp:close(S)),
    collect(3000),
    gen_tcp:close(P).

big_first(Opts) ->
    {S, _P} = pair(Opts),
    say("send 1MB", gen_tcp:send(S, mb())),
    say("pend", pend(S)),
    say("send 1", gen_tcp:send(S, <<"1">>)),
    say("pend", pend(S)),
    say("send 2", gen_tcp:send(S, <<"2">>)),
    say("recv", gen_tcp:recv(S, 0, 100)),
    say("send 3 (1MB)", gen_tcp:send(S, mb())).

peer_gone(Opts) ->
    {S, P} = pair(Opts),
    say("send 1MB", gen_tcp:send(S, mb())),
    sender(S, a, <<"a">>), timer:sleep(50),
    sender(S, b, <<"b">>),
    collect(200),
    ok = inet:setopts(P, [{linger, {true, 0}}]),
    gen_tcp:close(P),
    collect(500),
    say("send 1", gen_tcp:send(S, <<"c">>)),
    say("send 2", gen_tcp:send(S, <<"d">>)),
    say("recv 1", gen_tcp:recv(S, 0, 200)),
    say("recv 2", gen_tcp:recv(S, 0, 200)).
