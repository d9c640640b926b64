/// Why `textcredits backup` or `restore` refused or failed; each reads as a sentence an operator
/// can act on, and nothing was left half-written when one is thrown.
public enum BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The copy commands copy SQLite files; PostgreSQL has its own tools.
    case postgresUsesPgDump
    /// The file to copy from does not exist.
    case missing(path: String)
    /// The copy would be written over the very file it is copied from.
    case sameFile(path: String)
    /// The file to write exists and `--force` was not given.
    case targetExists(path: String, restoring: Bool)
    /// The file opens but is not an SQLite database with TextCredits' migrations.
    case notTextCredits(path: String)
    /// `PRAGMA integrity_check` found problems.
    case damaged(path: String, problems: [String])
    /// The copy does not hold the migrations its source holds.
    case migrationsDiffer(source: Int, copy: Int)
    /// The file was written by a newer TextCredits than this one.
    case schemaTooNew(path: String, found: Int, known: Int)

    public var description: String {
        switch self {
        case .postgresUsesPgDump:
            "textcredits backup and restore copy SQLite databases only; back up PostgreSQL with "
                + "pg_dump -Fc and restore it with pg_restore --clean --no-owner (see “Backups” in the README)."
        case .missing(let path): "There is no file at \(path)."
        case .sameFile(let path): "\(path) is both the database and the copy; name another file."
        case .targetExists(let path, let restoring):
            restoring
                ? "\(path) already exists. Stop the server that uses it first, then add --force to replace it."
                : "\(path) already exists. Choose another file, or add --force to replace it."
        case .notTextCredits(let path): "\(path) is not a TextCredits SQLite database."
        case .damaged(let path, let problems):
            "\(path) failed SQLite's integrity check: \(problems.prefix(5).joined(separator: "; "))."
        case .migrationsDiffer(let source, let copy):
            "The copy holds migrations up to \(copy) but its source holds up to \(source); nothing was kept."
        case .schemaTooNew(let path, let found, let known):
            "\(path) is at schema version \(found) but this program knows only up to \(known); "
                + "restore it with the newer textcredits that wrote it."
        }
    }
}
