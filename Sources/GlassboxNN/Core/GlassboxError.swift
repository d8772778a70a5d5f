import Foundation

/// Every error Glassbox throws. Messages name the shapes, values, files and places involved so a
/// user can act on them without a debugger.
public enum GlassboxError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Operand shapes do not fit the operation (message names both shapes).
    case shapeMismatch(String)
    /// An argument is outside its valid range (empty batch, negative size, unknown option…).
    case invalidArgument(String)
    /// Data contains NaN or ±Inf where finite numbers are required.
    case nonFinite(String)
    /// A file could not be read or is malformed: which file, where, and what is wrong.
    case badFile(path: String, location: String, problem: String)
    /// Training diverged or another numerical failure occurred.
    case numerical(String)
    /// An I/O failure (cannot open, cannot write, disk full…).
    case io(String)
    /// The user stopped the work (Ctrl-C); nothing half-done was kept.
    case cancelled(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .nonFinite(let m): return "non-finite value: \(m)"
        case .badFile(let path, let location, let problem):
            return location.isEmpty ? "\(path): \(problem)" : "\(path): \(location): \(problem)"
        case .numerical(let m): return "numerical failure: \(m)"
        case .io(let m): return "I/O error: \(m)"
        case .cancelled(let m): return "cancelled: \(m)"
        }
    }

    public var errorDescription: String? { description }
}
