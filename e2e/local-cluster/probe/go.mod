module local/probe

go 1.22
