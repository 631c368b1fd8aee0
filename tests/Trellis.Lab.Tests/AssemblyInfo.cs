// Every test builds namespaces, veth pairs, TUN devices and daemons in namespaces of its own, with
// random names, so two test classes can run side by side; more would starve the daemons on 2 cores.
// (xunit's default conservative algorithm starts a test only when one of the two slots is free.)
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
