#!/usr/bin/env escript
%% getopts.escript BACKEND -- what `gtcat getopts --backend BACKEND` prints,
%% asked of this node: listen on 127.0.0.1 port 0, connect, accept, and
%% for every option one line "ROLE OPTION VALUE", VALUE in ~w syntax: V
%% for {ok,[{OPTION,V}]}, else the whole term inet:getopts returns.
%% The list is every option_name() of gen_tcp(3) on OTP 25, what
%% inet:options() adds for TCP (nopush, broadcast; not the multicast_*
%% ones, UDP's), line_delimiter, bind_to_device, netns, two {raw,...}
%% reuseport (unknown to OTP 25: einval) and the create-only options
%% getopts answers for (tcp_module, ip, backlog; not fd, whose number differs).
main([B]) ->
    Be = list_to_atom(B),
    Opts = [active, buffer, debug, delay_send, deliver, dontroute, exit_on_close,
            header, high_msgq_watermark, high_watermark, keepalive, linger,
            low_msgq_watermark, low_watermark, mode, nodelay, packet, packet_size,
            priority, recbuf, reuseaddr, send_timeout, send_timeout_close,
            show_econnreset, sndbuf, tos, tclass, ttl, recvtos, recvtclass, recvttl,
            pktoptions, ipv6_v6only, line_delimiter, bind_to_device, netns,
            {raw, 1, 2, 4}, {raw, 6, 1, 4}, reuseport, broadcast, nopush,
            tcp_module, ip, backlog],
    {ok, L} = gen_tcp:listen(0, [{inet_backend, Be}, {ip, {127, 0, 0, 1}}]),
    {ok, P} = inet:port(L),
    {ok, C} = gen_tcp:connect({127, 0, 0, 1}, P, [{inet_backend, Be}]),
    {ok, A} = gen_tcp:accept(L),
    [[line(R, S, O) || O <- Opts] || {R, S} <- [{listen, L}, {connect, C}, {accept, A}]],
    ok.

line(Role, S, O) ->
    V = case inet:getopts(S, [O]) of
            {ok, [{O, X}]} -> X;
            T -> T
        end,
    io:format("~w ~w ~w~n", [Role, O, V]).
