module wtrace.bench

go 1.21
