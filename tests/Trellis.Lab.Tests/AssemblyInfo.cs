// Every test builds namespaces, veth pairs, TUN devices and daemons on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
