import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that never leave a half-written file behind.
///
/// A reader of the target path sees either the previous contents or the new ones, never a mix:
/// the bytes go to a uniquely named temporary file in the same directory (so the final `rename`
/// stays within one file system and is atomic), are flushed to disk with `fsync`, and only then
/// replace the target. A crash or error at any step leaves the previous target intact and removes
/// the temporary file.
///
/// What may be replaced (``destination(of:)``):
/// - a regular file, keeping its permission bits (and, as root, its owner);
/// - through a symbolic link, the regular file the link points to: the link stays and its target
///   is replaced (the temporary file goes beside the target, so the rename stays atomic);
/// - a missing path, created with mode 0666 minus the umask.
/// Anything else — a directory, a device node such as `/dev/null`, a FIFO, a socket, a link to
/// a missing file or to any of those — is refused with an error naming the path, before any byte
/// is written.
///
/// Signals: the temporary files are listed in ``TemporaryFiles``, which the CLI's SIGTERM, SIGHUP
/// and second-SIGINT handlers remove. A first SIGINT (``Interruption``) that arrived before the
/// renames cancels them: the previous files stay and ``GlassboxError/cancelled(_:)`` is thrown.
public enum AtomicFile {
    /// The file a write to a path replaces: its resolved path and, when it exists, its mode and owner.
    public struct Destination: Equatable, Sendable {
        /// Where the bytes go: the path itself, or the regular file a symbolic link points to.
        public var path: String
        /// Permission bits and owner of the file being replaced (nil: a new file).
        public var existing: (mode: UInt32, owner: UInt32, group: UInt32)?

        public static func == (a: Destination, b: Destination) -> Bool {
            a.path == b.path && a.existing?.mode == b.existing?.mode && a.existing?.owner == b.existing?.owner
                && a.existing?.group == b.existing?.group
        }
    }

    /// Resolves what a write to `path` would replace, refusing anything but a regular file or a
    /// missing path (see the type's documentation). Cost: one or two `stat` calls.
    ///
    /// - Throws: ``GlassboxError/io(_:)`` naming the path and the kind of file found there.
    public static func destination(of path: String) throws -> Destination {
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        var info = stat()
        guard lstat(target, &info) == 0 else {
            if errno == ENOENT { return Destination(path: target, existing: nil) }
            throw failure("cannot write", target)
        }
        var resolved = target
        if (info.st_mode & S_IFMT) == S_IFLNK {
            guard let real = realpath(target, nil) else {
                throw GlassboxError.io("cannot write \(target): it is a symbolic link to a missing file "
                                       + "(Glassbox replaces the regular file a link points to; remove the link or give another path)")
            }
            resolved = String(cString: real)
            free(real)
            guard stat(resolved, &info) == 0 else { throw failure("cannot write", target) }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let via = resolved == target ? "" : " (through the symbolic link to \(resolved))"
            throw GlassboxError.io("cannot write \(target)\(via): it is \(kind(info.st_mode)), not a regular file; "
                                   + "Glassbox replaces only regular files")
        }
        return Destination(path: resolved, existing: (UInt32(info.st_mode & 0o7777), UInt32(info.st_uid), UInt32(info.st_gid)))
    }

    /// "a directory", "a character device"…, for errors.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        case S_IFREG: return "a regular file"
        default: return "a special file"
        }
    }

    /// Writes `data` to `url` atomically. Cost: one write of `data.count` bytes plus two fsyncs.
    ///
    /// - Throws: ``GlassboxError/io(_:)`` naming the path and the operating system's reason.
    public static func write(_ data: Data, to url: URL) throws {
        try write([(data, url)])
    }

    /// Writes several files that belong together (a data file and its sidecar) so that a failure
    /// while writing any of them replaces none: every file's bytes are written and flushed to a
    /// temporary file first, and only when all succeeded (and no target is a directory) are the
    /// targets replaced, in order, each by an atomic `rename`. (A rename failing after an earlier
    /// one succeeded — the directory's permissions changed meanwhile — is the one case that leaves
    /// the set mixed; the error then names that file.) Cost: as ``write(_:to:)`` per file.
    ///
    /// - Throws: ``GlassboxError/io(_:)`` naming the path and the operating system's reason.
    public static func write(_ files: [(data: Data, url: URL)]) throws {
        var staged: [(temporary: String, target: String, destination: Destination, directory: String, slot: Int?)] = []
        var renamed = 0
        defer {
            for file in staged[renamed...] {
                unlink(file.temporary)
                TemporaryFiles.unregister(file.slot)
            }
        }
        for (data, url) in files {
            let target = url.standardizedFileURL.path
            let name = (target as NSString).lastPathComponent
            guard !name.isEmpty, name != "/" else { throw GlassboxError.io("cannot write \(target): not a file path") }
            let destination = try self.destination(of: target)
            let parent = (destination.path as NSString).deletingLastPathComponent
            let directory = parent.isEmpty ? "." : parent
            let (fd, temporary, slot) = try createTemporary(in: directory, name: (destination.path as NSString).lastPathComponent,
                                                            target: target)
            staged.append((temporary, target, destination, directory, slot))
            do {
                if let existing = destination.existing {
                    // Keep the replaced file's permissions (a 0600 file stays 0600) and, as root, its owner.
                    if geteuid() == 0 { _ = fchown(fd, uid_t(existing.owner), gid_t(existing.group)) }
                    guard fchmod(fd, mode_t(existing.mode)) == 0 else { throw failure("cannot set the permissions of", target) }
                }
                try writeAll(data, to: fd, target: target)
                guard fsync(fd) == 0 else { throw failure("cannot flush", target) }
            } catch {
                close(fd)
                throw error
            }
            guard close(fd) == 0 else { throw failure("cannot close", target) }
        }
        // Re-check each destination (a directory or device may have appeared meanwhile): a failure
        // here must come before the first rename, so the set is replaced all or nothing.
        for file in staged {
            let now = try destination(of: file.target)
            guard now.path == file.destination.path else {
                throw GlassboxError.io("cannot replace \(file.target): it changed while being written")
            }
        }
        if Interruption.isRequested {
            let names = staged.map(\.target).joined(separator: ", ")
            throw GlassboxError.cancelled("interrupted before \(names) was replaced; nothing was written")
        }
        for file in staged {
            guard rename(file.temporary, file.destination.path) == 0 else { throw failure("cannot replace", file.target) }
            TemporaryFiles.unregister(file.slot)
            renamed += 1
        }
        for directory in Set(staged.map(\.directory)) { syncDirectory(directory) }
    }

    /// Opens a new file `.<name>.tmp-<random>` exclusively, retrying on the (unlikely) name clash.
    /// The path is recorded in ``TemporaryFiles`` before the file exists, so a signal arriving
    /// right after `open` still removes it.
    private static func createTemporary(in directory: String, name: String, target: String) throws -> (Int32, String, Int?) {
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let path = directory + "/." + name + ".tmp-" + suffix
            let slot = TemporaryFiles.register(path)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            let error = errno
            if fd >= 0 { return (fd, path, slot) }
            TemporaryFiles.unregister(slot)
            errno = error
            if error != EEXIST { throw failure("cannot create a temporary file for", target) }
        }
        throw GlassboxError.io("cannot write \(target): could not create a unique temporary file")
    }

    private static func writeAll(_ data: Data, to fd: Int32, target: String) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write", target)
                }
                offset += n
            }
        }
    }

    /// Makes the rename itself durable. Best effort: some file systems refuse fsync on directories.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    private static func failure(_ action: String, _ target: String) -> GlassboxError {
        let reason = String(cString: strerror(errno))
        return GlassboxError.io("\(action) \(target): \(reason)")
    }
}

/// The C `write`, reachable under another name because `AtomicFile.write` shadows it.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
