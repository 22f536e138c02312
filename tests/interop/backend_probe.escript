#!/usr/bin/env escript
%% -*- erlang -*-
%% backend_probe.escript -- what OTP 25 answers on both backends for the
%% scenarios of tests/integ/backend_test.c (docs/spec/semantics.md section
%% 10), printed one line per scenario: BACKEND NAME RESULTS.  diff.sh
%% compares most of them step by step with gentcp (tests/interop/
%% diff-cases.txt, sockbk/...); this covers the ones its steps cannot say:
%% concurrent recvs, controlling_process to a dead process, local sockets
%% with nodelay, the rest of a {packet,4} send.  Run by hand:
%%   escript tests/interop/backend_probe.escript
-mode(compile).
main(_) ->
    [run(B) || B <- [inet, socket]], ok.
pair(B, LO, CO) ->
    {ok, L} = gen_tcp:listen(0, [{inet_backend, B}, {ip, {127,0,0,1}}, binary, {active,false} | LO]),
    {ok, Port} = inet:port(L),
    {ok, P} = gen_tcp:connect({127,0,0,1}, Port, [binary, {active,false} | CO]),
    {ok, S} = gen_tcp:accept(L),
    gen_tcp:close(L),
    {S, P}.
p(B, Name, V) -> io:format("~w ~s ~w~n", [B, Name, V]).
msgs() -> receive M -> [M | msgs()] after 200 -> [] end.
run(B) ->
    {S1,_} = pair(B, [], []),
    R1a = gen_tcp:close(S1), R1b = gen_tcp:close(S1),
    p(B, "close_twice", {R1a, R1b, gen_tcp:send(S1,<<"x">>), gen_tcp:recv(S1,0,0), inet:setopts(S1,[{active,true}]),
        inet:getopts(S1,[active]), inet:sockname(S1), inet:port(S1), gen_tcp:shutdown(S1,write), gen_tcp:controlling_process(S1,self())}),
    {S2,P2} = pair(B, [], []),
    gen_tcp:close(P2), timer:sleep(50),
    p(B, "peer_close_passive", [gen_tcp:recv(S2,0,500), gen_tcp:recv(S2,0,500), gen_tcp:send(S2,<<"a">>), gen_tcp:send(S2,<<"b">>), timer:sleep(50), gen_tcp:send(S2,<<"c">>),gen_tcp:recv(S2,0,100), inet:setopts(S2,[{active,true}]), msgs(), gen_tcp:close(S2)]),
    {S3,P3} = pair(B, [], []),
    inet:setopts(P3,[{linger,{true,0}}]), gen_tcp:close(P3), timer:sleep(50),
    p(B, "peer_rst_passive", [gen_tcp:recv(S3,0,500), gen_tcp:recv(S3,0,500), gen_tcp:send(S3,<<"a">>), gen_tcp:send(S3,<<"b">>), gen_tcp:recv(S3,0,100)]),
    {S3b,P3b} = pair(B, [], []),
    gen_tcp:close(P3b), timer:sleep(50),
    p(B, "peer_close_send_first", [gen_tcp:send(S3b,<<"a">>), timer:sleep(50), gen_tcp:send(S3b,<<"b">>), gen_tcp:send(S3b,<<"c">>), gen_tcp:recv(S3b,0,100), gen_tcp:recv(S3b,0,100), gen_tcp:send(S3b,<<"d">>)]),
    %% send timeout
    {S4,_P4} = pair(B, [{sndbuf,8192},{send_timeout,300}], [{recbuf,8192}]),
    R4 = gen_tcp:send(S4, binary:copy(<<"a">>, 4000000)),
    p(B, "send_timeout", [case R4 of {error,{timeout,Rest}} -> {timeout_rest, byte_size(Rest)}; X -> X end, gen_tcp:send(S4,<<"x">>)]),
    {S5,_P5} = pair(B, [{sndbuf,8192},{send_timeout,300},{send_timeout_close,true}], [{recbuf,8192}]),
    R5 = gen_tcp:send(S5, binary:copy(<<"a">>, 4000000)),
    p(B, "send_timeout_close", [case R5 of {error,{timeout,Rest5}} -> {timeout_rest, byte_size(Rest5)}; X5 -> X5 end, gen_tcp:send(S5,<<"x">>), gen_tcp:recv(S5,0,100), gen_tcp:send(S5,<<"y">>), gen_tcp:close(S5), gen_tcp:close(S5)]),
    %% packet 2 send timeout rest contains header?
    {S5b,_} = pair(B, [{sndbuf,8192},{send_timeout,300},{packet,4}], [{recbuf,8192}]),
    R5b = gen_tcp:send(S5b, binary:copy(<<"a">>, 4000000)),
    p(B, "send_timeout_p4", [case R5b of {error,{timeout,Rest5b}} -> {timeout_rest, byte_size(Rest5b)}; X5b -> X5b end]),
    %% shutdown write
    {S6,P6} = pair(B, [], [{exit_on_close,false}]),
    p(B, "shutdown_write", [gen_tcp:shutdown(S6,write), gen_tcp:recv(P6,0,500), gen_tcp:send(S6,<<"x">>), gen_tcp:send(S6,<<"y">>), gen_tcp:send(P6,<<"z">>), gen_tcp:recv(S6,0,500), gen_tcp:shutdown(S6,write), gen_tcp:shutdown(S6,read)]),
    %% concurrent recv
    {S7,P7} = pair(B, [], []),
    Me = self(),
    [spawn(fun() -> Me ! {r, I, gen_tcp:recv(S7, 0, 2000)} end) || I <- [1,2]],
    timer:sleep(100), gen_tcp:send(P7,<<"one">>), timer:sleep(100), gen_tcp:send(P7,<<"two">>),
    p(B, "concurrent_recv", lists:sort([receive {r,I,R} -> {I,R} after 3000 -> none end || I <- [1,2]])),
    %% recv length with packet 2
    {S8,P8} = pair(B, [{packet,2}], [{packet,2}]),
    gen_tcp:send(P8, <<"abc">>),
    p(B, "recv_len_packet2", [gen_tcp:recv(S8, 5, 500), gen_tcp:recv(S8, 16#4000001, 200)]),
    {S8b,_} = pair(B, [], []),
    p(B, "recv_len_64m", [gen_tcp:recv(S8b, 16#4000001, 200), gen_tcp:recv(S8b, 16#4000000, 200)]),
    %% emsgsize
    {S9,P9} = pair(B, [{packet,2},{packet_size,8}], []),
    gen_tcp:send(P9, <<0,20,"0123456789abcdefghij",0,2,"ok">>), timer:sleep(50),
    p(B, "emsgsize_passive", [gen_tcp:recv(S9,0,300), gen_tcp:recv(S9,0,300), gen_tcp:send(S9,<<"x">>), gen_tcp:recv(P9,0,300)]),
    {S9b,P9b} = pair(B, [{packet,2},{packet_size,8}], []),
    inet:setopts(S9b, [{active,true}]),
    gen_tcp:send(P9b, <<0,20,"0123456789abcdefghij",0,2,"ok">>), timer:sleep(50),
    p(B, "emsgsize_active", [msgs(), gen_tcp:send(P9b, <<0,2,"ok">>), msgs(), inet:setopts(S9b,[{active,once}]), msgs()]),
    {S9c,P9c} = pair(B, [{packet,2},{packet_size,8},{exit_on_close,false}], []),
    gen_tcp:send(P9c, <<0,20,"0123456789abcdefghij",0,2,"ok">>), timer:sleep(50),
    p(B, "emsgsize_passive_eocf", [gen_tcp:recv(S9c,0,300), gen_tcp:recv(S9c,0,300)]),
    %% line truncation
    {S10,P10} = pair(B, [{packet,line},{buffer,5},{packet_size,10}], []),
    gen_tcp:send(P10, <<"0123456789ABC\n">>),
    p(B, "line_trunc", [gen_tcp:recv(S10,0,300), gen_tcp:recv(S10,0,300), gen_tcp:recv(S10,0,300)]),
    {S10b,P10b} = pair(B, [{packet,line},{buffer,5}], []),
    gen_tcp:send(P10b, <<"0123456789ABC\n">>),
    p(B, "line_buffer5", [gen_tcp:recv(S10b,0,300), gen_tcp:recv(S10b,0,300)]),
    %% activate after EOF
    {S11,P11} = pair(B, [], []),
    gen_tcp:close(P11),
    p(B, "activate_after_eof", [gen_tcp:recv(S11,0,300), inet:setopts(S11,[{active,true}]), msgs(), inet:setopts(S11,[{active,once}]), msgs()]),
    {S11b,P11b} = pair(B, [{exit_on_close,false}], []),
    gen_tcp:close(P11b),
    p(B, "activate_after_eof_eocf", [gen_tcp:recv(S11b,0,300), inet:setopts(S11b,[{active,true}]), msgs(), gen_tcp:send(S11b,<<"x">>)]),
    {S11c,P11c} = pair(B, [{exit_on_close,false}], []),
    inet:setopts(S11c,[{active,true}]),
    gen_tcp:close(P11c), timer:sleep(100),
    p(B, "active_eof_eocf_reactivate", [msgs(), inet:setopts(S11c,[{active,false}]), gen_tcp:recv(S11c,0,100), inet:setopts(S11c,[{active,true}]), msgs()]),
    {S11d,P11d} = pair(B, [], []),
    inet:setopts(S11d,[{active,true}]),
    gen_tcp:close(P11d), timer:sleep(100),
    p(B, "active_eof_eoct", [msgs(), gen_tcp:send(S11d,<<"x">>), gen_tcp:recv(S11d,0,100), inet:setopts(S11d,[{active,true}]), gen_tcp:close(S11d)]),
    %% active false from N
    {S12,_} = pair(B, [{active,3}], []),
    p(B, "active_false_from_n", [inet:setopts(S12,[{active,false}]), msgs()]),
    %% controlling process to dead pid
    {S13,P13} = pair(B, [{active,true}], []),
    Dead = spawn(fun() -> ok end), timer:sleep(50),
    gen_tcp:send(P13, <<"hi">>), timer:sleep(50),
    R13 = gen_tcp:controlling_process(S13, Dead),
    p(B, "ctl_dead", [R13, inet:getopts(S13,[active]), msgs(), gen_tcp:send(P13,<<"more">>), timer:sleep(50), msgs(), gen_tcp:recv(S13,0,100), gen_tcp:controlling_process(S13,self())]),
    %% local + nodelay
    Path = "/tmp/gentcp-probe-" ++ os:getpid() ++ "-" ++ atom_to_list(B), file:delete(Path),
    p(B, "local_nodelay", [catch gen_tcp:listen(0, [{inet_backend,B},{ifaddr,{local,Path}},{nodelay,true}])]),
    file:delete(Path),
    {ok, LL} = gen_tcp:listen(0, [{inet_backend,B},{ifaddr,{local,Path}}]),
    p(B, "local_nodelay_connect", [catch gen_tcp:connect({local,Path}, 0, [{inet_backend,B},{nodelay,true}]), inet:setopts(LL,[{nodelay,true}])]),
    file:delete(Path),
    ok.
