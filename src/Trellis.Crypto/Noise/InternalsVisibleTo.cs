using System.Runtime.CompilerServices;

// The known-answer tests inject the vectors' ephemeral keys through internal constructors.
[assembly: InternalsVisibleTo("Trellis.Crypto.Tests")]
