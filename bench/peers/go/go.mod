module gentcp.bench/echo

go 1.19
