using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Trellis.Benchmarks.AeadBenchmarks).Assembly).Run(args);
