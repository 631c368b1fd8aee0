using SharpFuzz;
using Trellis.Fuzz;

// trellis-fuzz list | run TARGET | replay TARGET FILE... | seed DIRECTORY
// "run" is what afl-fuzz starts (bench/fuzz.sh); "replay" shows what a crasher throws.
switch (args)
{
    case ["list"]:
        foreach (var target in FuzzTargets.All)
        {
            Console.WriteLine($"{target.Name,-18} {target.Parses}");
        }

        return 0;

    case ["run", var name] when FuzzTargets.Find(name) is { } target:
        var input = new MemoryStream();
        Fuzzer.Run(stream =>
        {
            input.SetLength(0);
            stream.CopyTo(input);
            _ = target.Run(input.GetBuffer().AsSpan(0, (int)input.Length));
        });
        return 0;

    case ["replay", var name, .. var files] when FuzzTargets.Find(name) is { } target:
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                var accepted = target.Run(File.ReadAllBytes(file));
                Console.WriteLine($"{(accepted ? "accept" : "refuse")} {file}");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"CRASH  {file}: {e}");
            }
        }

        return failed == 0 ? 0 : 1;

    case ["seed", var directory]:
        SeedWriter.WriteAll(directory);
        return 0;

    default:
        Console.Error.WriteLine("usage: trellis-fuzz list | run TARGET | replay TARGET FILE... | seed DIRECTORY");
        Console.Error.WriteLine($"targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
        return 2;
}
