import Foundation

/// Where the data lives: `sqlite:PATH` (the embedded default), `sqlite::memory:` for a private
/// in-memory database, or `postgres://user:password@host:port/database[?sslmode=disable|require][&search_path=schema]`.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// The embedded default used by `textcredits serve` with no flags.
    public static let embeddedDefault = DatabaseURL.sqlite(path: "./textcredits.sqlite")

    /// Parses a database URL, or explains what is wrong with it.
    public init(parsing text: String) throws(StoreError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw .invalidURL("sqlite: needs a file path, e.g. sqlite:./textcredits.sqlite")
            }
            self = .sqlite(path: path)
            return
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty,
                let user = components.user, !user.isEmpty
            else {
                throw .invalidURL("a PostgreSQL URL looks like postgres://user:password@host:5432/database")
            }
            let database = String(components.path.drop(while: { $0 == "/" }))
            let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
            guard ["disable", "prefer", "require"].contains(sslMode) else {
                throw .invalidURL("sslmode must be disable, prefer or require")
            }
            let searchPath = components.queryItems?.first(where: { $0.name == "search_path" })?.value
            self = .postgres(
                PostgresLocation(
                    host: host,
                    port: components.port ?? 5432,
                    user: user,
                    password: components.password,
                    database: database.isEmpty ? user : database,
                    sslMode: sslMode,
                    searchPath: searchPath
                )
            )
            return
        }
        if text.hasSuffix(".sqlite") || text.hasSuffix(".db") {
            self = .sqlite(path: text)
            return
        }
        throw .invalidURL("use sqlite:PATH or postgres://user:password@host:port/database")
    }

    /// The URL with any password hidden, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location):
            "postgres://\(location.user)@\(location.host):\(location.port)/\(location.database)"
        }
    }
}

/// A PostgreSQL server and database.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: String
    /// Schema search path for every connection (`?search_path=…`); tests give each run its own schema.
    public var searchPath: String?
}
