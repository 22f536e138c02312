#!/usr/bin/env escript
%% -*- erlang -*-
%%! +A0
%%
%% gen.escript -- the decode_packet differential-test generator.
%%
%%   escript gen.escript SEED PER_TYPE OUT [stream]
%%       writes PER_TYPE cases for every packet type, made from SEED, with
%%       the output of the live erlang:decode_packet/3 as the expectation.
%%       With "stream" the input is several packets and EXPECTED is what
%%       `gtcat decode TYPE` (no --once) must print, lines joined by "|":
%%       decode_packet again on each Rest until {more,_} or {error,_}, with
%%       http/http_bin switching to httph/httph_bin after a start line and
%%       back after http_eoh, as a socket does.
%%
%% Corpus format: one case a line, four tab-separated fields:
%%   TYPE  OPTS  HEX  EXPECTED
%% TYPE is the decode_packet type as gtcat spells it, OPTS is "-" or a
%% comma list of ps=N (packet_size), ll=N (line_length), ld=N
%% (line_delimiter) in Erlang list order, HEX the input bytes ("-" if none),
%% EXPECTED what io:format("~w~n", [Result]) prints ("badarg" if it raises).
-mode(compile).

types() ->
    [raw, '0', '1', '2', '4', asn1, sunrm, cdr, fcgi, tpkt, line,
     http, httph, http_bin, httph_bin].

main([SeedS, PerS, Out]) -> main([SeedS, PerS, Out, "once"]);
main([SeedS, PerS, Out, Mode]) ->
    put(mode, list_to_atom(Mode)),
    Seed = list_to_integer(SeedS),
    Per = list_to_integer(PerS),
    rand:seed(exsss, {Seed, Seed bxor 16#5bd1e995, 16#1234567 + Seed}),
    {ok, F} = file:open(Out, [write, raw, binary, delayed_write]),
    lists:foreach(
      fun(T) ->
              lists:foreach(fun(_) -> emit(F, T, input(T)) end, lists:seq(1, Per))
      end, types()),
    ok = file:close(F);
main(_) ->
    io:format(standard_error, "usage: gen.escript SEED PER_TYPE OUT~n", []),
    halt(2).

input(T) ->
    case get(mode) of
        stream ->
            {Opts, B0} = gen(T),
            {Opts, iolist_to_binary([B0 | [element(2, gen(T)) || _ <- lists:seq(1, r(0, 4))]])};
        _ ->
            gen(T)
    end.

emit(F, T, {Opts, Bin}) ->
    Ty = case T of '0' -> 0; '1' -> 1; '2' -> 2; '4' -> 4; _ -> T end,
    ErlOpts = [erl_opt(O) || O <- Opts],
    Res = case get(mode) of
              stream -> lists:join("|", stream(Ty, Ty, Bin, ErlOpts));
              _ -> once(Ty, Bin, ErlOpts)
          end,
    OptS = case Opts of
               [] -> "-";
               _ -> lists:join(",", [[K, "=", integer_to_list(V)] || {K, V} <- Opts])
           end,
    ok = file:write(F, [atom_to_list(T), $\t, OptS, $\t, case hex(Bin) of [] -> "-"; H -> H end, $\t, Res, $\n]).

once(Ty, Bin, Opts) ->
    try io_lib:format("~w", [erlang:decode_packet(Ty, Bin, Opts)])
    catch error:badarg -> "badarg"
    end.

stream(T0, T, Bin, Opts) ->
    try erlang:decode_packet(T, Bin, Opts) of
        {ok, P, Rest} = R -> [io_lib:format("~w", [R]) | stream(T0, next(T0, T, P), Rest, Opts)];
        R -> [io_lib:format("~w", [R])]
    catch error:badarg -> ["badarg"]
    end.

next(http, _, P) when element(1, P) =:= http_request; element(1, P) =:= http_response -> httph;
next(http_bin, _, P) when element(1, P) =:= http_request; element(1, P) =:= http_response -> httph_bin;
next(T0, _, http_eoh) when T0 =:= http; T0 =:= http_bin -> T0;
next(_, T, _) -> T.

erl_opt({"ps", V}) -> {packet_size, V};
erl_opt({"ll", V}) -> {line_length, V};
erl_opt({"ld", V}) -> {line_delimiter, V}.

hex(B) -> [io_lib:format("~2.16.0b", [X]) || <<X>> <= B].

%% ---- helpers ---------------------------------------------------------------

r(N) -> rand:uniform(N).               % 1..N
r(A, B) -> A + rand:uniform(B - A + 1) - 1.
pick(L) -> lists:nth(r(length(L)), L).
chance(P) -> rand:uniform() < P.
bytes(N) -> << <<(r(0, 255))>> || _ <- lists:seq(1, N) >>.
text(N) -> << <<(pick(" abcdefxyzABCXYZ0123456789-_./:;?=&%"))>> || _ <- lists:seq(1, N) >>.

%% Options: mostly none, sometimes limits, sometimes something Erlang rejects.
opts(T) ->
    case r(10) of
        N when N =< 5 -> [];
        6 -> [{"ps", small()}];
        7 -> [{"ll", small()}];
        8 -> [{pick(["ps", "ll"]), small()}, {pick(["ps", "ll"]), small()}];
        9 -> [{"ps", pick([0, 1, 2, 3, 4, 8, 16, 65535, 2147483647, 2147483648, 4294967295])}];
        10 ->
            case r(6) of
                1 -> [{"ps", pick([-1, 4294967296, 18446744073709551616])}];
                2 -> [{"ll", pick([-1, 4294967296])}];
                3 -> [{"ld", r(0, 255)}];          % badarg unless T = line
                4 -> [{"ld", pick([256, -1, 1000])}];
                5 -> [{"ps", small()}, {"ll", -5}];
                6 when T =:= line -> [{"ld", r(0, 255)}, {"ps", small()}];
                6 -> [{"ll", small()}, {"ps", 0}]
            end
    end.

small() -> pick([0, 1, 2, 3, 4, 5, 7, 8, 10, 12, 16, 20, 30, 50, 64, 100, 1000]).

%% Damage a valid packet in one of several ways, or leave it alone.
mangle(B) ->
    case r(10) of
        N when N =< 4 -> B;
        5 -> <<B/binary, (bytes(r(0, 8)))/binary>>;          % trailing rest
        6 when byte_size(B) > 0 -> binary:part(B, 0, r(0, byte_size(B) - 1)); % truncated
        7 when byte_size(B) > 0 ->                           % one byte changed
            I = r(0, byte_size(B) - 1),
            <<P:I/binary, _, S/binary>> = B,
            <<P/binary, (r(0, 255)), S/binary>>;
        8 -> <<B/binary, B/binary>>;                         % two packets
        9 -> bytes(r(0, 24));                                % garbage
        _ -> <<B/binary, (text(r(1, 6)))/binary>>
    end.

%% ---- per type -----------------------------------------------------------

gen(T) when T =:= raw; T =:= '0' ->
    {opts(T), mangle(bytes(pick([0, 0, 1, 2, 5, 17])))};
gen(T) when T =:= '1'; T =:= '2'; T =:= '4' ->
    H = list_to_integer(atom_to_list(T)) * 8,
    Len = case r(6) of
              1 -> 0;
              2 -> (1 bsl H) - 1;
              3 when H =:= 32 -> pick([16#7ffffffb, 16#7ffffffc, 16#80000000, 16#fffffffc, 16#ffffffff]);
              _ -> r(0, 12)
          end,
    Body = bytes(min(Len, 40)),
    {opts(T), mangle(<<Len:H, Body/binary>>)};
gen(asn1) ->
    Tag = case r(4) of
              1 -> <<(r(0, 255) bor 16#1f)>>;                                   % long tag
              2 -> <<(16#1f bor (r(0, 7) bsl 5)), (<< <<(X bor 16#80)>> || <<X>> <= bytes(r(0, 3)) >>)/binary,
                    (r(0, 127))>>;
              _ -> <<(r(0, 255) band 16#fe)>>
          end,
    Tag2 = fix_tag(Tag),
    BodyLen = r(0, 20),
    Len = case r(6) of
              1 -> <<16#80>>;                                                   % indefinite
              2 -> K = r(1, 4), <<(16#80 bor K), BodyLen:(K * 8)>>;
              3 -> K = r(5, 8), <<(16#80 bor K), (bytes(K))/binary>>;        % > 4 bytes
              4 -> <<16#84, (pick([16#7fffffff, 16#ffffffff, 16#7ffffff0])):32>>;
              _ -> <<BodyLen>>
          end,
    {opts(asn1), mangle(<<Tag2/binary, Len/binary, (bytes(BodyLen))/binary>>)};
gen(sunrm) ->
    Len = case r(5) of 1 -> pick([16#7fffffff, 16#7ffffffb, 16#fffffff0]); _ -> r(0, 12) end,
    Last = r(0, 1),
    {opts(sunrm), mangle(<<Last:1, Len:31, (bytes(min(Len, 30)))/binary>>)};
gen(cdr) ->
    Magic = case r(8) of 1 -> pick([<<"GIOp">>, <<"XIOP">>, <<"GIO">>]); _ -> <<"GIOP">> end,
    Flags = r(0, 3),
    Len = case r(6) of 1 -> pick([16#7ffffff3, 16#7ffffff4, 16#ffffffff]); _ -> r(0, 12) end,
    Size = case Flags band 1 of 1 -> <<Len:32/little>>; 0 -> <<Len:32>> end,
    {opts(cdr), mangle(<<Magic/binary, (r(0, 2)), (r(0, 3)), Flags, (r(0, 7)), Size/binary,
                         (bytes(min(Len, 30)))/binary>>)};
gen(fcgi) ->
    V = case r(8) of 1 -> r(0, 255); _ -> 1 end,
    CL = case r(8) of 1 -> 65535; _ -> r(0, 12) end,
    Pad = r(0, 7),
    {opts(fcgi), mangle(<<V, (r(1, 11)), (r(0, 65535)):16, CL:16, Pad, 0,
                          (bytes(min(CL + Pad, 30)))/binary>>)};
gen(tpkt) ->
    V = case r(8) of 1 -> r(0, 255); _ -> 3 end,
    L = case r(5) of 1 -> r(0, 4); 2 -> 65535; _ -> r(4, 16) end,
    {opts(tpkt), mangle(<<V, (r(0, 255)), L:16, (bytes(min(max(L - 4, 0), 30)))/binary>>)};
gen(line) ->
    Delim = case r(4) of 1 -> r(0, 255); _ -> $\n end,
    Opts0 = opts(line),
    Opts = case Delim of
               $\n -> Opts0;
               _ -> Opts0 ++ [{"ld", Delim}]
           end,
    Lines = [<<(text(r(0, 12)))/binary, (pick([<<Delim>>, <<"\n">>, <<"\r\n">>, <<>>]))/binary>>
             || _ <- lists:seq(1, r(1, 3))],
    {Opts, mangle(iolist_to_binary(Lines))};
gen(T) ->
    Opts = case r(10) of
               1 -> [{"ps", pick([1, 5, 10, 16, 20, 30, 40])}];
               2 -> [{"ll", pick([1, 5, 10, 16, 20, 30, 40])}];
               3 -> opts(T);
               _ -> []
           end,
    Start = T =:= http orelse T =:= http_bin,
    Line = case {Start, r(10)} of
               {true, N} when N =< 6 -> start_line();
               {_, N} when N =< 8 -> header_line();
               {_, 9} -> pick([<<"\r\n">>, <<"\n">>, <<"\r">>, <<>>, <<" \r\n">>]);
               _ -> <<(bytes(r(0, 20)))/binary, (pick([<<"\r\n">>, <<"\n">>, <<>>]))/binary>>
           end,
    After = case r(6) of
                1 -> <<>>;
                2 -> <<" continued\r\n">>;
                3 -> <<"\tmore\r\n\r\n">>;
                4 -> header_line();
                _ -> <<"\r\n">>
            end,
    B = <<Line/binary, After/binary>>,
    {Opts, case r(8) of 1 -> mangle(B); _ -> B end}.

fix_tag(<<>>) -> <<0>>;
fix_tag(B) -> B.

%% ---- http pieces --------------------------------------------------------

methods() -> ["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE"].

headers() ->
    ["Cache-Control", "Connection", "Date", "Pragma", "Transfer-Encoding", "Upgrade",
     "Via", "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
     "Authorization", "From", "Host", "If-Modified-Since", "If-Match", "If-None-Match",
     "If-Range", "If-Unmodified-Since", "Max-Forwards", "Proxy-Authorization", "Range",
     "Referer", "User-Agent", "Age", "Location", "Proxy-Authenticate", "Public",
     "Retry-After", "Server", "Vary", "Warning", "Www-Authenticate", "Allow",
     "Content-Base", "Content-Encoding", "Content-Language", "Content-Length",
     "Content-Location", "Content-Md5", "Content-Range", "Content-Type", "Etag",
     "Expires", "Last-Modified", "Accept-Ranges", "Set-Cookie", "Set-Cookie2",
     "X-Forwarded-For", "Cookie", "Keep-Alive", "Proxy-Connection"].

recase(S) ->
    case r(4) of
        1 -> string:uppercase(S);
        2 -> string:lowercase(S);
        3 -> [case chance(0.5) of true -> string:uppercase([C]); false -> string:lowercase([C]) end
              || C <- S];
        _ -> S
    end.

eol() -> pick([<<"\r\n">>, <<"\r\n">>, <<"\r\n">>, <<"\n">>]).

start_line() ->
    case r(4) of
        1 -> response_line();
        _ -> request_line()
    end.

request_line() ->
    Meth = case r(8) of
               1 -> recase(pick(methods()));
               2 -> pick(["PATCH", "CONNECT", "get", "M-SEARCH", "X\x7fY", "GE(T", "", "G\x80T"]);
               _ -> pick(methods())
           end,
    Sp = pick([" ", " ", " ", "  ", "\t", ""]),
    Uri = uri(),
    Ver = case r(10) of
              1 -> "";
              2 -> pick([" HTTP/1.0", " HTTP/2.0", " HTTP/10.22", " HTTP/1.", " HTTP/.1", " http/1.1",
                         " HTTP/1.1x", " HTTP/1", " HTTP/99999999999.4294967296", " HTTX/1.1", " H",
                         "  HTTP/1.1  "]);
              _ -> " HTTP/1.1"
          end,
    iolist_to_binary([Meth, Sp, Uri, Ver, eol()]).

uri() ->
    Host = pick(["example.com", "h", "127.0.0.1", "[::1]", "u:p@host", "user@h", ""]),
    Port = pick(["", "", ":80", ":8080", ":0", ":65536", ":99999999999", ":4294967295",
                 ":2147483648", ":8a", ":", ":-1"]),
    Path = pick(["", "/", "/a/b?c=d#e", "/x%20y", "/:"]),
    case r(10) of
        1 -> "*";
        2 -> pick(["/", "/index.html", "/a?b=c", "a", "", "/*"]);
        3 -> [pick(["http://", "HTTP://", "hTtP://"]), Host, Port, Path];
        4 -> [pick(["https://", "HTTPS://"]), Host, Port, Path];
        5 -> pick(["mailto:a@b", "ftp://x/y", "urn:x:y", ":", "x:", "noscheme", "ab",
                   "http:/x", "https:x", "http://"]);
        6 -> ["http://", Host, Port];
        _ -> pick(["/", "/path/to/x", "/q?x=1&y=2"])
    end.

response_line() ->
    Ver = pick(["HTTP/1.1", "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/1", "HTTP/x.1",
                "HTTP/1.", "HTTP/", "HTTP/11.12"]),
    Sp = pick([" ", " ", "  ", "\t", ""]),
    Status = pick(["200", "404", "500", "", "2x0", "4294967295", "99999999999", "0"]),
    Reason = pick([" OK", " Not Found", "", " ", "  multiple words here", "x", "\tTab"]),
    iolist_to_binary([Ver, Sp, Status, Reason, eol()]).

header_line() ->
    Name = case r(10) of
               N when N =< 5 -> recase(pick(headers()));
               6 -> pick(["X-Custom", "x-custom-header", "foo", "Content-Length-X", "-x", "a--b",
                          "ACCEPT-ranges", "set-cookie2", "WWW-authenticate"]);
               7 -> lists:duplicate(r(45, 55), $a);
               8 -> [lists:duplicate(r(1, 60), $x), "-", recase(pick(headers()))];
               9 -> pick(["", " Host", "Ho st", "Host ", "Ho\x7fst", "Ho(st", "H\x80"]);
               _ -> pick(["Host", "Content-Type"])
           end,
    Colon = pick([":", ":", ":", ": ", ":  ", ":\t", ""]),
    Value = pick(["", "x", "localhost", "text/html; charset=utf-8", "  leading", "a b c",
                  "12345", "trailing  "]),
    iolist_to_binary([Name, Colon, Value, eol()]).
