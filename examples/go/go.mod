module wtrace.example

go 1.21
