
namespace Trellis.Packaging.Tests;

/// <summary>The tests that share one publish of the executable (<see cref="PublishedTrellis"/>); they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PublishedTrellisCollection : ICollectionFixture<PublishedTrellis>
{
    public const string Name = "published trellis";
}
