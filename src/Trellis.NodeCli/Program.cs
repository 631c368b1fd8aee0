using Trellis.Cli;

return CommandLine.Run(args);
