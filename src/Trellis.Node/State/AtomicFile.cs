namespace Trellis.Node.State;

/// <summary>
/// Writes a file so that a reader (or a daemon started after a crash) sees the old content or the
/// new, never half of either: a 0600 temporary file, flushed to disk, renamed over the target.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary); // a leftover of a crash between create and rename
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
