/// Operational failures of the store, with stable codes.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database URL cannot be used.
    case invalidURL(String)
    /// The database schema is newer than this program knows.
    case schemaTooNew(found: Int, known: Int)
    /// A row holds a value this program cannot read (corruption or a newer schema).
    case unreadableRow(String)
    /// A record that must exist does not.
    case notFound(String)
    /// A write conflicts with existing data (unique key).
    case conflict(String)
    /// An opt-in from someone other than the recipient, for a number whose recipient opted out.
    case optedOutByRecipient(phone: String)
    /// The change would leave the organisation without an owner.
    case lastOwner
    /// Another writer holds the database (SQLite's lock held by another process past the busy
    /// timeout, a PostgreSQL lock or serialisation conflict): nothing was written; try again.
    case busy
    /// The database server cannot be reached (or refused the connection): "cannot connect to
    /// 127.0.0.1:5432: connection refused".
    case unreachable(String)

    /// Stable code.
    public var code: String {
        switch self {
        case .invalidURL: "database_url_invalid"
        case .schemaTooNew: "schema_too_new"
        case .unreadableRow: "row_unreadable"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .optedOutByRecipient: "opted_out_by_recipient"
        case .lastOwner: "last_owner"
        case .busy: "store_busy"
        case .unreachable: "database_unreachable"
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let reason): "Invalid database URL: \(reason)"
        case .schemaTooNew(let found, let known):
            "The database schema is at version \(found) but this program knows only up to \(known)."
        case .unreadableRow(let what): "Cannot read a stored row: \(what)"
        case .notFound(let what): "Not found: \(what)"
        case .conflict(let what): "Conflict: \(what)"
        case .optedOutByRecipient(let phone): "\(phone) opted out by text; only the recipient can opt back in"
        case .lastOwner: "the organisation would be left without an owner"
        case .busy: "the database is busy with another writer"
        case .unreachable(let reason): reason
        }
    }
}
