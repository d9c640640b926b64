import SQLKit

/// Where the dispatch of a campaign (texts) or a voice broadcast (calls) stands after a
/// dispatcher's round, for the dispatcher's log.
public struct DispatchProgress: Sendable, Equatable {
    /// The campaign's or broadcast's id.
    public let id: String
    /// The id of the request that placed it (nil for work placed before request ids were kept).
    public let requestID: String?
    /// True while some of its texts or calls wait in the queue or are being handed to the provider.
    public let dispatching: Bool

    public init(id: String, requestID: String?, dispatching: Bool) {
        self.id = id
        self.requestID = requestID
        self.dispatching = dispatching
    }
}

extension DispatchProgress {
    /// Reads the progress of `ids` with `select`, a query that ends in `WHERE` and yields `id`,
    /// `request_id` and `dispatching` (1 or 0), `idColumn` being the id it is filtered on: one
    /// statement per `IN` list's worth of ids.
    static func read(_ select: String, idColumn: String, ids: Set<String>, from database: any Database) async throws
        -> [DispatchProgress]
    {
        guard !ids.isEmpty else { return [] }
        return try await database.read { sql in
            var found: [DispatchProgress] = []
            for chunk in ids.sorted().inListChunks {
                found += try await sql.raw("\(unsafeRaw: select) \(chunk.sqlMembership(idColumn, for: sql))").all().map
                { row in
                    DispatchProgress(
                        id: try row.value("id"),
                        requestID: try row.optional("request_id"),
                        dispatching: try row.value("dispatching", as: Int.self) == 1
                    )
                }
            }
            return found
        }
    }
}
