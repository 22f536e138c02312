#!/usr/bin/env escript
%% -*- erlang -*-
%% diff.escript -- the Erlang side of the differential tests (diff.sh).
%%
%%   diff.escript run FILE     runs every scenario of FILE with gen_tcp
%%                             ({inet_backend,inet}) and prints one line per
%%                             scenario: NAME, a tab, then each step's result
%%                             as an Erlang term (~w), separated by " ; ".
%%   diff.escript gen SEED N   prints a covering set of scenarios (below).
%%
%% diff_gt.c runs the same FILE with gentcp and must print the same text.
%%
%% Scenario file: one scenario per line, "NAME<TAB>STEP|STEP|...".  A step is
%% words separated by spaces.  OPTS is "k=v,k=v" (linger=true/0; "-" = none;
%% inet_backend=socket as the first one runs the socket under test on the
%% socket backend).
%% DATA is items joined by '+': s:TEXT (%XX escapes), h:HEX, f:COUNT:BYTE.
%%   listen OPTS PEER_RCVBUF   the socket under test listens, a raw peer
%%                             connects, the socket is accepted
%%   connect OPTS PEER_RCVBUF  a raw peer listens, the socket under test
%%                             connects (PEER_RCVBUF 0 = OS default)
%%   psend DATA | pshut | pclose | prst   the raw peer acts (prst: RST)
%%   precv T     the peer reads until EOF, error or T ms of silence:
%%               {peer,Bytes,Adler32,eof|open|reset}
%%   send DATA   gen_tcp:send from a helper process; waits up to 2 s for the
%%               result, else prints pending (the result comes with await)
%%   await T     the oldest pending send's result (pending if none in T ms)
%%   recv LEN T | setopts OPTS | getopts NAME,NAME | close | shutdown HOW
%%   msgs T      the messages about the socket until T ms of silence; raw
%%               data messages in a row are merged (their split is timing)
%%   ctl T       controlling_process to a new process; its result, then
%%               the messages the new owner got within T ms of silence
%%   sleep T
%% Data is printed as a binary when short, else {bin,Size,Adler32}.  Lists
%% ({mode,list}) and {header,H} data are printed as the binary they hold:
%% gentcp has one byte representation (docs/DEVIATIONS.md row 5).
-mode(compile).

-define(SCENARIO_TIMEOUT, 20000).
-define(SEND_WAIT, 2000).

main(["run", File]) ->
    {ok, Text} = file:read_file(File),
    Lines = [L || L <- binary:split(Text, <<"\n">>, [global]), L =/= <<>>],
    lists:foreach(fun run_line/1, Lines),
    halt(0);
main(["gen", Seed, N]) ->
    gen(list_to_integer(Seed), list_to_integer(N)),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: see the head of diff.escript~n", []),
    halt(2).

%% ---------------------------------------------------------------- runner

run_line(Line) ->
    [Name, Steps] = binary:split(Line, <<"\t">>),
    Words = [string:lexemes(binary_to_list(S), " ")
             || S <- binary:split(Steps, <<"|">>, [global])],
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), scenario(Words)} end),
    Out = receive
              {Pid, R} -> R;
              {'DOWN', Ref, process, Pid, Why} -> [io_lib:format("crash:~w", [Why])]
          after ?SCENARIO_TIMEOUT ->
              exit(Pid, kill), ["scenario_timeout"]
          end,
    erlang:demonitor(Ref, [flush]),
    io:format("~s\t~s~n", [Name, lists:join(" ; ", Out)]).

-record(st, {s, peer, sender, pending = [], packet = raw, out = []}).

scenario(Words) ->
    Sender = spawn_link(fun sender/0),
    steps(Words, #st{sender = Sender}).

steps([], St) -> lists:reverse(St#st.out);
steps([W | Ws], St) ->
    {T, St1} = try step(W, St)
               catch C:E -> {{text, io_lib:format("~w", [{C, E}])}, St}
               end,
    St2 = St1#st{out = [lists:flatten(fmt(T)) | St1#st.out]},
    case T of
        {abort, _} -> lists:reverse(St2#st.out);
        _ -> steps(Ws, St2)
    end.

fmt({text, S}) -> S;
fmt(T) -> io_lib:format("~w", [T]).

base() -> [binary, {active, false}, {exit_on_close, false}, {show_econnreset, true}].
rcvbuf("0") -> [];
rcvbuf(N) -> [{recbuf, list_to_integer(N)}].

step(["listen", O, PR], St) ->
    Opts = opts(O),
    {Backend, Rest} = backend(Opts),
    case catch gen_tcp:listen(0, [{inet_backend, Backend}, {ip, {127,0,0,1}} | Rest]) of
        {ok, L} ->
            {ok, Port} = inet:port(L),
            {ok, P} = gen_tcp:connect({127,0,0,1}, Port, base() ++ rcvbuf(PR), 5000),
            {ok, S} = gen_tcp:accept(L, 5000),
            gen_tcp:close(L),
            {ok, St#st{s = S, peer = P, packet = packet_of(Opts, raw)}};
        {'EXIT', {badarg, _}} -> {{abort, badarg}, St};
        Other -> {{abort, Other}, St}
    end;
step(["connect", O, PR], St) ->
    Opts = opts(O),
    {ok, L} = gen_tcp:listen(0, [{ip, {127,0,0,1}} | base() ++ rcvbuf(PR)]),
    {ok, Port} = inet:port(L),
    {Backend, Rest} = backend(Opts),
    case catch gen_tcp:connect({127,0,0,1}, Port, [{inet_backend, Backend} | Rest], 5000) of
        {ok, S} ->
            {ok, P} = gen_tcp:accept(L, 5000),
            gen_tcp:close(L),
            {ok, St#st{s = S, peer = P, packet = packet_of(Opts, raw)}};
        {'EXIT', {badarg, _}} -> {{abort, badarg}, St};
        Other -> {{abort, Other}, St}
    end;
step(["psend", D], St) -> {gen_tcp:send(St#st.peer, data(D)), St};
step(["pshut"], St) -> {gen_tcp:shutdown(St#st.peer, write), St};
step(["pclose"], St) -> {gen_tcp:close(St#st.peer), St#st{peer = closed}};
step(["prst"], St) ->
    ok = inet:setopts(St#st.peer, [{linger, {true, 0}}]),
    {gen_tcp:close(St#st.peer), St#st{peer = closed}};
step(["precv", _], St = #st{peer = closed}) -> {{peer, closed}, St};
step(["precv", T], St) -> {peer_read(St#st.peer, list_to_integer(T), <<>>, 0), St};
step(["send", D], St = #st{sender = Snd, pending = Pend}) ->
    Ref = make_ref(),
    Snd ! {send, self(), Ref, St#st.s, data(D)},
    await(?SEND_WAIT, St#st{pending = Pend ++ [Ref]});
step(["await", T], St) -> await(list_to_integer(T), St);
step(["recv", N, T], St) ->
    {case gen_tcp:recv(St#st.s, list_to_integer(N), list_to_integer(T)) of
         {ok, D} -> {ok, pdata(D)};
         E -> E
     end, St};
step(["setopts", O], St) ->
    Opts = opts(O),
    case inet:setopts(St#st.s, Opts) of
        ok -> {ok, St#st{packet = packet_of(lists:reverse(Opts), St#st.packet)}};
        E -> {E, St}
    end;
step(["getopts", Names], St) ->
    Ns = [list_to_atom(N) || N <- string:lexemes(Names, ",")],
    {tos_as_number(inet:getopts(St#st.s, Ns)), St};
step(["close"], St) -> {gen_tcp:close(St#st.s), St};
step(["shutdown", How], St) -> {gen_tcp:shutdown(St#st.s, list_to_atom(How)), St};
step(["msgs", T], St) -> {msgs(St#st.s, St#st.packet, list_to_integer(T)), St};
step(["ctl", T], St) ->
    Self = self(), S = St#st.s, Pk = St#st.packet, Tm = list_to_integer(T),
    H = spawn_link(fun() ->
                           receive go -> ok end,
                           Self ! {ctl_msgs, msgs(S, Pk, Tm)},
                           receive stop -> ok end
                   end),
    R = gen_tcp:controlling_process(S, H),
    H ! go,
    M = receive {ctl_msgs, X} -> X after 10000 -> ctl_timeout end,
    {{text, [fmt(R), " ", fmt(M)]}, St};
step(["sleep", T], St) -> timer:sleep(list_to_integer(T)), {ok, St};
step(W, _) -> error({bad_step, W}).

sender() ->
    receive {send, From, Ref, S, D} -> From ! {sent, Ref, rest(gen_tcp:send(S, D))} end,
    sender().

%% The socket backend's {error,{timeout,RestData}}: its size depends on the
%% kernel's buffers at that moment, so only that there is a rest is printed.
rest({error, {timeout, Rest}}) when is_binary(Rest); is_list(Rest) -> {error, {timeout, rest}};
rest(R) -> R.

await(_, St = #st{pending = []}) -> {no_pending_send, St};
await(T, St = #st{pending = [Ref | Rest]}) ->
    receive {sent, Ref, R} -> {R, St#st{pending = Rest}}
    after T -> {pending, St}
    end.

peer_read(P, T, Acc, I) when I < 100000 ->
    case gen_tcp:recv(P, 0, T) of
        {ok, D} -> peer_read(P, T, <<Acc/binary, D/binary>>, I + 1);
        {error, timeout} -> peer_res(Acc, open);
        {error, closed} -> peer_res(Acc, eof);
        {error, econnreset} -> peer_res(Acc, reset);
        {error, E} -> peer_res(Acc, E)
    end;
peer_read(_, _, Acc, _) -> peer_res(Acc, too_long).

peer_res(Acc, State) -> {peer, byte_size(Acc), erlang:adler32(Acc), State}.

%% Messages about S until T ms without one (at most 500, 10 s).
msgs(S, Pk, T) ->
    Deadline = erlang:monotonic_time(millisecond) + 10000,
    merge(Pk, collect(S, T, Deadline, 500, [])).

collect(_, _, _, 0, Acc) -> lists:reverse(Acc);
collect(S, T, Deadline, K, Acc) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {tcp, S, D} -> collect(S, T, Deadline, K - 1, [{tcp, s, D} | Acc]);
        {tcp_closed, S} -> collect(S, T, Deadline, K - 1, [{tcp_closed, s} | Acc]);
        {tcp_error, S, R} -> collect(S, T, Deadline, K - 1, [{tcp_error, s, R} | Acc]);
        {tcp_passive, S} -> collect(S, T, Deadline, K - 1, [{tcp_passive, s} | Acc]);
        {http, S, H} -> collect(S, T, Deadline, K - 1, [{http, s, H} | Acc])
    after min(T, Left) -> lists:reverse(Acc)
    end.

merge(raw, [{tcp, s, A}, {tcp, s, B} | Rest]) ->
    merge(raw, [{tcp, s, <<(bin(A))/binary, (bin(B))/binary>>} | Rest]);
merge(Pk, [{tcp, s, D} | Rest]) -> [{tcp, s, pdata(D)} | merge(Pk, Rest)];
merge(Pk, [M | Rest]) -> [M | merge(Pk, Rest)];
merge(_, []) -> [].

bin(D) when is_binary(D) -> D;
bin(D) -> iolist_to_binary(D).

pdata(D) when is_binary(D); is_list(D) ->
    B = bin(D),
    case byte_size(B) =< 48 of
        true -> B;
        false -> {bin, byte_size(B), erlang:adler32(B)}
    end;
pdata(Http) -> Http.

%% The socket backend reads tos back as an atom where one names the value
%% (16 -> lowdelay); C has only the number, so the comparison uses it.
tos_as_number({ok, L}) -> {ok, [{K, tos_number(K, V)} || {K, V} <- L]};
tos_as_number(R) -> R.
tos_number(tos, lowdelay) -> 16;
tos_number(tos, throughput) -> 8;
tos_number(tos, reliability) -> 4;
tos_number(tos, mincost) -> 2;
tos_number(_, V) -> V.

packet_of(Opts, Default) ->
    case lists:keyfind(packet, 1, lists:reverse(Opts)) of
        {packet, 0} -> raw;
        {packet, P} -> P;
        false -> Default
    end.

%% inet_backend=B as the first option picks the backend; inet otherwise.
backend([{inet_backend, B} | Rest]) -> {B, Rest};
backend(Opts) -> {inet, Opts}.

%% "k=v,k=v" -> [{k,v}]; "-" -> [].
opts("-") -> [];
opts(O) -> [opt(string:split(KV, "=")) || KV <- string:lexemes(O, ",")].

opt(["linger", V]) ->
    [On, Secs] = string:split(V, "/"),
    {linger, {list_to_atom(On), list_to_integer(Secs)}};
opt([K, V]) ->
    Val = case string:to_integer(V) of
              {I, []} -> I;
              _ -> list_to_atom(V)
          end,
    {list_to_atom(K), Val}.

data(D) -> iolist_to_binary([item(I) || I <- string:lexemes(D, "+")]).

item("s:" ++ T) -> unescape(T);
item("h:" ++ H) -> binary:decode_hex(list_to_binary(H));
item("f:" ++ R) ->
    [N, B] = string:split(R, ":"),
    binary:copy(<<(list_to_integer(B))>>, list_to_integer(N)).

unescape([$%, A, B | R]) -> [list_to_integer([A, B], 16) | unescape(R)];
unescape([C | R]) -> [C | unescape(R)];
unescape([]) -> [].

%% ---------------------------------------------------------------- generator
%%
%% Factors (option groups) and events; a greedy pairwise covering array: every
%% pair of values of any two factors (the event is one of them) appears in at
%% least one scenario.  Deterministic for a seed.  N > 0 adds N random
%% scenarios on top (DIFF_N).

factors() ->
    [{side, ["listen", "connect"]},
     {packet, ["raw", "1", "2", "4", "line", "http_bin"]},
     {active, ["false", "true", "once", "2"]},
     {eoc, ["-", "exit_on_close=false"]},
     {reset, ["-", "show_econnreset=true"]},
     {stimeout, ["-", "send_timeout=200", "send_timeout=200,send_timeout_close=true"]},
     {wmark, ["-", "high_watermark=4096,low_watermark=1024", "low_watermark=20000"]},
     {psize, ["-", "packet_size=8"]},
     {buffer, ["-", "buffer=5"]},
     {ldelim, ["-", "line_delimiter=59"]},
     {send, ["-", "delay_send=true", "nodelay=true"]},
     {linger, ["-", "linger=true/0", "linger=true/2"]},
     {mode, ["-", "mode=binary", "mode=binary,header=2"]},
     {qos, ["-", "tos=16,priority=3", "priority=3,tos=16"]},
     {event, events()}].

events() ->
    ["echo", "peer_close_mid", "peer_reset", "oversize", "partial_close",
     "shutdown_write", "slow_reader", "active_after_eof", "ctl_queued",
     "ctl_closed", "close_pending", "send_after_rst", "peer_half_close"].

gen(Seed, Extra) ->
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 5}),
    Fs = [Vs || {_, Vs} <- factors()],
    Idx = [lists:seq(1, length(Vs)) || Vs <- Fs],
    Pairs = sets:from_list([P || {I, As} <- enum(Idx), {J, Bs} <- enum(Idx), I < J,
                                 A <- As, B <- Bs, P <- [{I, A, J, B}], fix_pair(P)]),
    Rows = cover(Idx, Pairs, []) ++ [fix([rand:uniform(length(X)) || X <- Idx])
                                     || _ <- lists:seq(1, Extra)],
    lists:foreach(fun({K, Row}) -> emit(K, [lists:nth(V, Vs) || {V, Vs} <- lists:zip(Row, Fs)]) end,
                  enum(Rows)).

enum(L) -> lists:zip(lists:seq(1, length(L)), L).

cover(Idx, Pairs, Acc) ->
    case sets:size(Pairs) of
        0 -> lists:reverse(Acc);
        _ ->
            Cands = [cand(Idx, Pairs) || _ <- lists:seq(1, 30)],
            {_, Best} = lists:max([{gain(R, Pairs), R} || R <- Cands]),
            cover(Idx, sets:subtract(Pairs, sets:from_list(row_pairs(Best))), [Best | Acc])
    end.

%% A candidate that covers at least one uncovered pair (its first element).
cand(Idx, Pairs) ->
    L = sets:to_list(Pairs),
    {I, A, J, B} = lists:nth(rand:uniform(length(L)), L),
    fix([case K of I -> A; J -> B; _ -> rand:uniform(length(X)) end || {K, X} <- enum(Idx)]).

%% line_delimiter is a connect-only option (listen raises badarg, rule 6):
%% a scenario with it connects.  Factor 1 is side, 10 is ldelim.
fix_pair({1, 1, 10, 2}) -> false;
fix_pair(_) -> true.

fix(Row) ->
    case lists:nth(10, Row) of
        2 -> [2 | tl(Row)];
        _ -> Row
    end.

row_pairs(Row) ->
    E = enum(Row),
    [{I, A, J, B} || {I, A} <- E, {J, B} <- E, I < J].

gain(Row, Pairs) -> length([P || P <- row_pairs(Row), sets:is_element(P, Pairs)]).

emit(K, [Side, Packet, Active, Eoc, Reset, STo, WMark, PSize, Buf, LDelim, Send, Linger,
         Mode, Qos, Event]) ->
    Opts = lists:filter(fun(O) -> O =/= "-" end,
                        ["packet=" ++ Packet, "active=" ++ Active, Eoc, Reset, STo, WMark,
                         PSize, Buf, LDelim, Send, Linger, Mode, Qos]),
    Delim = case LDelim of "-" -> 10; _ -> 59 end,
    C = #{packet => Packet, active => Active, delim => Delim, side => Side,
          qos => Qos =/= "-", opts => string:join(Opts, ",")},
    Steps = event(Event, C),
    io:format("~b/~s/~s\t~s~n", [K, Event, string:join([Side | Opts], ","),
                                 string:join(Steps, "|")]).

open(C) -> open(C, "", "0").
open(C = #{side := Side, opts := O}, Extra, PR) ->
    [Side ++ " " ++ O ++ Extra ++ " " ++ PR] ++
        case C of #{qos := true} -> ["getopts tos,priority"]; _ -> [] end.

%% One framed packet of the socket's type, as a DATA spec.
pkt(#{packet := "raw"}, P) -> "s:" ++ P;
pkt(#{packet := "line", delim := D}, P) -> "s:" ++ P ++ "+h:" ++ hex([D]);
pkt(#{packet := "http_bin"}, P) -> "s:GET%20/" ++ P ++ "%20HTTP/1.1%0D%0A";
pkt(#{packet := N}, P) ->
    Size = list_to_integer(N),
    "h:" ++ hex(binary_to_list(<<(length(P)):(Size * 8)>>)) ++ "+s:" ++ P.

%% The first half of a packet: a header and part of the body, or a line
%% without its end.
half(#{packet := "raw"}) -> "s:hal";
half(#{packet := "line"}) -> "s:half";
half(#{packet := "http_bin"}) -> "s:GET%20/ha";
half(#{packet := N}) ->
    "h:" ++ hex(binary_to_list(<<10:(list_to_integer(N) * 8)>>)) ++ "+s:half".

hex(Bytes) -> lists:flatten([io_lib:format("~2.16.0b", [B]) || B <- Bytes]).

%% Observes k packets: passive recv, or the mailbox (re-arming once / N).
obs(#{active := "false"}, K) -> lists:duplicate(K, "recv 0 300");
obs(#{active := "true"}, _) -> ["msgs 300"];
obs(#{active := "once"}, K) -> lists:append(lists:duplicate(K, ["msgs 300", "setopts active=once"]));
obs(#{active := N}, _) -> ["msgs 300", "setopts active=" ++ N, "msgs 300"].

tail() -> ["send s:x", "recv 0 100", "send s:y", "close", "precv 300"].

event("echo", C) ->
    open(C) ++ ["psend " ++ pkt(C, "abc") ++ "+" ++ pkt(C, "de")] ++ obs(C, 2) ++
        ["send s:xyz", "precv 300", "close", "precv 300"];
event("peer_close_mid", C) ->
    open(C) ++ ["psend " ++ pkt(C, "hello") ++ "+" ++ half(C), "pclose"] ++ obs(C, 3) ++ tail();
event("peer_reset", C) ->
    open(C) ++ ["psend " ++ pkt(C, "data1"), "sleep 50", "prst"] ++ obs(C, 3) ++ tail();
event("oversize", C) ->
    open(C) ++ ["psend " ++ pkt(C, "0123456789abcdefghij") ++ "+" ++ pkt(C, "ok")] ++
        obs(C, 3) ++ tail();
event("partial_close", C) ->
    open(C) ++ ["psend " ++ half(C), "pshut"] ++ obs(C, 2) ++ ["getopts active"] ++ tail();
event("shutdown_write", C) ->
    open(C) ++ ["send s:bye", "shutdown write", "precv 300", "psend " ++ pkt(C, "reply"),
                "pclose"] ++ obs(C, 2) ++ tail();
event("slow_reader", C) ->
    %% {packet,2}: the largest payload its header holds; {packet,1} keeps
    %% 200000 bytes: DEVIATIONS row 1 (emsgsize), expected in diff-expected.txt
    Big = case C of #{packet := "2"} -> "65535"; _ -> "200000" end,
    open(C, ",sndbuf=8192", "8192") ++
        ["send f:" ++ Big ++ ":97", "send f:" ++ Big ++ ":98", "send f:" ++ Big ++ ":99",
         "getopts active",
         "precv 600", "await 3000", "await 3000", "await 3000", "send s:end", "close",
         "precv 300"];
event("active_after_eof", C) ->
    open(C) ++ ["psend " ++ pkt(C, "a"), "pclose", "sleep 50"] ++ obs(C, 2) ++
        ["setopts active=true", "msgs 300", "setopts active=once", "msgs 300",
         "recv 0 100"] ++ tail();
event("ctl_queued", C) ->
    open(C) ++ ["psend " ++ pkt(C, "m1") ++ "+" ++ pkt(C, "m2"), "sleep 100", "ctl 300",
                "msgs 100", "recv 0 100", "psend " ++ pkt(C, "m3"), "sleep 50", "recv 0 100",
                "close", "precv 300"];
event("ctl_closed", C) ->
    open(C) ++ ["psend " ++ pkt(C, "m1"), "pclose", "sleep 100", "ctl 300", "msgs 100",
                "recv 0 100", "send s:x", "close"];
event("close_pending", C) ->
    open(C) ++ ["psend " ++ pkt(C, "m1"), "pclose", "sleep 100", "close", "msgs 200"];
event("send_after_rst", C) ->
    open(C) ++ ["prst", "sleep 100", "send s:a", "send s:b", "send s:c", "recv 0 100",
                "recv 0 100", "msgs 200", "close"];
event("peer_half_close", C) ->
    open(C) ++ ["psend " ++ pkt(C, "q"), "pshut"] ++ obs(C, 2) ++
        ["send s:answer", "precv 300", "recv 0 100", "close", "precv 300"].
