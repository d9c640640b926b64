import CreditsCore
import Foundation
import SQLKit

/// The outbox and the record of every message: insertion with campaigns, claiming for
/// dispatch (SKIP LOCKED on PostgreSQL), delivery reports, and reads for the API.
///
/// Every write that moves messages to a final status (a delivery report, a refusal at dispatch,
/// a cancel, an expiry) runs in the caller's unit of work and returns the messages it finished:
/// the settlement service settles their holds in that same transaction, so a message is never
/// final with its hold still pending, even if the process dies right after.
public struct MessageStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static let columns = """
        id, organization_id, campaign_id, conversation_id, direction, kind, from_number, to_number, body, channel, segments, credits, status,
        hold_id, provider_id, provider_segments, error_code, error_message, flagged, not_before, attempts, created_at, updated_at, media,
        reprocess_of
        """

    /// The columns for a SELECT from `messages m LEFT JOIN ledger_holds h`: what a message was
    /// charged is read from its hold, the one record of it.
    static let selectWithCharge =
        "SELECT "
        + columns.split(separator: ",").map { "m." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .joined(separator: ", ")
        + ", CASE WHEN h.status IS NULL OR h.status = 'pending' THEN NULL ELSE h.posted_amount END AS charged"
        + ", (SELECT rs.id FROM messages AS rs WHERE rs.reprocess_of = m.id) AS reprocessed_as"
        + " FROM messages m LEFT JOIN ledger_holds h ON h.id = m.hold_id"

    // MARK: Writing

    /// The `messages` table as bulk-written: each column with the value it takes from a message.
    static let messageRows = BulkTable<Message>(
        name: "messages",
        columns: [
            .text("id") { $0.id }, .text("organization_id") { $0.organizationID.rawValue },
            .text("campaign_id") { $0.campaignID },
            .text("conversation_id") { $0.conversationID }, .text("direction") { $0.direction.rawValue },
            .text("kind") { $0.kind.rawValue },
            .text("from_number") { $0.from }, .text("to_number") { $0.to }, .text("body") { $0.body },
            .text("channel") { $0.channel.rawValue },
            .integer("segments") { $0.segments }, .bigint("credits") { $0.credits.milli },
            .text("status") { $0.status.rawValue },
            .text("hold_id") { $0.holdID?.rawValue }, .text("provider_id") { $0.providerID },
            .integer("flagged") { $0.flagged ? 1 : 0 },
            .bigint("not_before") { $0.notBefore.milliseconds }, .bigint("created_at") { $0.createdAt.milliseconds },
            .bigint("updated_at") { $0.updatedAt.milliseconds },
            .text("media") { $0.media.map { $0.joined(separator: ",") } },
            .text("reprocess_of") { $0.reprocessOf },
        ]
    )

    /// Inserts messages in the caller's unit of work. The first history step ("queued", or
    /// "received") is the message's own creation; only a `detail` is stored as an event.
    public static func insert(_ messages: [Message], detail: String? = nil, in work: UnitOfWork) async throws {
        try await insert(messages, detail: detail, on: work.sql)
    }

    static func insert(_ messages: [Message], detail: String? = nil, on sql: any SQLDatabase) async throws {
        guard !messages.isEmpty else { return }
        try await BulkRows.insert(sql, into: messageRows, rows: messages)
        if let detail {
            try await insertEvents(
                messages.map { MessageEventRow(id: $0.id, status: $0.status, detail: detail) },
                at: messages[0].createdAt,
                on: sql
            )
        }
    }

    /// True when a message with this provider id is recorded (a provider repeating a webhook).
    /// Whether a message with this provider id was kept already (read outside a unit of work).
    public func hasReceived(providerID: String) async throws -> Bool {
        try await database.read { sql in
            try await sql.raw("SELECT id FROM messages WHERE provider_id = \(bind: providerID)").first() != nil
        }
    }

    public static func hasReceived(providerID: String, in work: UnitOfWork) async throws -> Bool {
        try await work.sql.raw("SELECT id FROM messages WHERE provider_id = \(bind: providerID)").first() != nil
    }

    /// Reads the messages with these ids, locking them (on PostgreSQL) in ascending id order.
    /// Every transaction that changes several messages locks them through here first, so two
    /// of them (a report batch and a dispatch batch, say) may wait for each other but never
    /// deadlock. SQLite's single writer needs no row locks.
    static func lockInOrder(_ ids: some Collection<String>, on sql: any SQLDatabase) async throws -> [Message] {
        try await lockInOrder(ids, selecting: MessageStore.columns, on: sql).map(MessageStore.message)
    }

    /// Locks the messages with these ids as `lockInOrder` does, reading nothing but the lock.
    static func lock(_ ids: some Collection<String>, on sql: any SQLDatabase) async throws {
        _ = try await lockInOrder(ids, selecting: "id", on: sql)
    }

    private static func lockInOrder(_ ids: some Collection<String>, selecting columns: String, on sql: any SQLDatabase)
        async throws -> [any SQLRow]
    {
        let sorted = Set(ids).sorted()
        let order = lockOrder(sql)
        var rows: [any SQLRow] = []
        for chunk in sorted.inListChunks {
            rows += try await sql.raw(
                """
                SELECT \(unsafeRaw: columns) FROM messages WHERE \(chunk.sqlMembership("id", for: sql)) \(unsafeRaw: order)
                """
            ).all()
        }
        return rows
    }

    /// The clause that locks selected messages in the one order: byte order of the id, the same
    /// order Swift sorts ids in, so the database's collation cannot reorder chunk boundaries.
    static func lockOrder(_ sql: any SQLDatabase) -> String {
        sql.storeDialect == .sqlite ? "ORDER BY id" : #"ORDER BY id COLLATE "C" FOR UPDATE"#
    }

    /// One step of a message's history to write.
    struct MessageEventRow: Sendable {
        let id: String
        let status: MessageStatus
        let detail: String?
    }

    static func insertEvents(_ events: [MessageEventRow], at instant: Date, on sql: any SQLDatabase) async throws {
        let table = BulkTable<MessageEventRow>(
            name: "message_events",
            columns: [
                .text("message_id") { $0.id }, .text("status") { $0.status.rawValue }, .text("detail") { $0.detail },
                .bigint("created_at") { _ in instant.milliseconds },
            ]
        )
        try await BulkRows.insert(sql, into: table, rows: events)
    }

    /// Inserts a campaign row in the caller's unit of work, with the id of the request that
    /// placed it (`RequestID.current`), which the dispatcher's log lines about it carry.
    public static func insert(_ campaign: Campaign, in work: UnitOfWork) async throws {
        let sql = work.sql
        let skipped = String(decoding: try OrganizationStore.jsonEncoder.encode(campaign.skipped), as: UTF8.self)
        try await sql.raw(
            """
            INSERT INTO campaigns (id, organization_id, account_id, actor, actor_name, body, channel, automated, send_at, not_before, status,
                                   requested, accepted, skipped, credits_reserved, created_at, media, request_id)
            VALUES (\(bind: campaign.id), \(bind: campaign.organizationID.rawValue), \(bind: campaign.account.rawValue), \(bind: campaign.actor),
                    \(bind: campaign.actorName), \(bind: campaign.body), \(bind: campaign.channel.rawValue), \(bind: campaign.automated ? 1 : 0),
                    \(bind: campaign.sendAt?.milliseconds), \(bind: campaign.notBefore.milliseconds), \(bind: campaign.status.rawValue),
                    \(bind: campaign.requested), \(bind: campaign.accepted), \(bind: skipped), \(bind: campaign.creditsReserved.milli),
                    \(bind: campaign.createdAt.milliseconds), \(bind: campaign.media?.joined(separator: ",")),
                    \(bind: RequestID.current?.rawValue))
            """
        ).run()
    }

    // MARK: Dispatch

    /// Claims up to `limit` queued messages that are due: they become `sending` with a lease.
    /// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several servers claim disjoint sets; on
    /// SQLite the single write lock does the same.
    public func claim(limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedMessage] {
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let due = MessageStore.due(at: now)
        // Most polls find nothing due: asking a read connection first keeps them off the write lock.
        guard try await database.anyRow(MessageStore.anyDue(at: now)) else { return [] }
        return try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE messages SET status = 'sending', lease_until = \(bind: leaseUntil.milliseconds), attempts = attempts + 1,
                    updated_at = \(bind: now.milliseconds)
                WHERE id IN (SELECT id FROM messages WHERE \(due)
                             ORDER BY not_before LIMIT \(bind: limit)\(unsafeRaw: skipLocked))
                RETURNING id, organization_id, campaign_id, from_number, to_number, body, channel, attempts, retry, hold_id, media
                """
            ).all().map { row in
                ClaimedMessage(
                    id: try row.value("id"),
                    organizationID: OrganizationID(try row.value("organization_id")),
                    campaignID: try row.optional("campaign_id"),
                    from: try row.value("from_number"),
                    to: try row.value("to_number"),
                    body: try row.value("body"),
                    channel: Channel(rawValue: try row.value("channel")) ?? .sms,
                    attempts: try row.value("attempts"),
                    retry: try row.value("retry", as: Int.self) == 1,
                    holdID: try row.optional("hold_id", as: String.self).map(HoldID.init),
                    media: MessageStore.mediaIDs(try row.optional("media"))
                )
            }
        }
    }

    /// Texts a dispatcher may claim: queued and due.
    static func due(at now: Date) -> SQLQueryString { "status = 'queued' AND not_before <= \(bind: now.milliseconds)" }

    /// Whether any text is due, asked before a claim. Ordered like the claim, by the column of the
    /// partial index `messages_ready`, so PostgreSQL reads that index whatever its statistics say:
    /// unordered, while they still counted a just-claimed send as queued (until the next
    /// ANALYZE), it scanned the whole table on every poll (75 ms at a million texts).
    static func anyDue(at now: Date) -> SQLQueryString {
        "SELECT 1 AS due FROM messages WHERE \(due(at: now)) ORDER BY not_before LIMIT 1"
    }

    /// Texts whose dispatcher's lease ran out.
    static func expired(at now: Date) -> SQLQueryString {
        "status = 'sending' AND lease_until < \(bind: now.milliseconds)"
    }

    /// Whether any lease ran out, asked before a reclaim; ordered by the column of
    /// `messages_leased` for the reason `anyDue` is.
    static func anyExpired(at now: Date) -> SQLQueryString {
        "SELECT 1 AS due FROM messages WHERE \(expired(at: now)) ORDER BY lease_until LIMIT 1"
    }

    /// Puts messages whose dispatcher died (lease expired) back in the queue, marked as retries.
    @discardableResult
    public func reclaimExpiredLeases(now: Date) async throws -> Int {
        let expired = MessageStore.expired(at: now)
        guard try await database.anyRow(MessageStore.anyExpired(at: now)) else { return 0 }
        return try await database.transaction { sql in
            let rows = try await sql.raw(
                """
                UPDATE messages SET status = 'queued', retry = 1, lease_until = NULL, not_before = \(bind: now.milliseconds),
                    updated_at = \(bind: now.milliseconds)
                WHERE id IN (SELECT id FROM messages WHERE \(expired)
                             \(unsafeRaw: MessageStore.lockOrder(sql)))
                RETURNING id
                """
            ).all()
            let events = try rows.map {
                MessageEventRow(id: try $0.value("id"), status: .queued, detail: "dispatch interrupted; retrying")
            }
            try await MessageStore.insertEvents(events, at: now, on: sql)
            return rows.count
        }
    }

    /// A dispatched message the provider took.
    struct SentRow: Sendable {
        let id: String
        let providerID: String
        let segments: Int?
    }

    /// A message to try again later.
    struct RetryRow: Sendable {
        let id: String
        let at: Date
        let error: String
    }

    /// A message refused for good at dispatch.
    struct FailedRow: Sendable {
        let id: String
        let code: String
        let message: String
    }

    /// Records dispatch results in the caller's unit of work and returns the messages that
    /// failed for good (now final, their holds still to settle). A message a delivery report
    /// already moved past `sending` keeps its newer status.
    public static func record(_ results: [(id: String, result: DispatchResult)], at instant: Date, in work: UnitOfWork)
        async throws -> [Message]
    {
        try await recordDispatch(results, at: instant, in: work).finished
    }

    /// What a dispatch round changed: the messages it made final, and the ids it moved to `sent`
    /// (a delivery report that overtook the dispatcher already moved the others).
    public struct DispatchRecorded: Sendable {
        public var finished: [Message]
        public var sent: [String]
    }

    /// `record`, also saying which messages this round moved to `sent`.
    public static func recordDispatch(
        _ results: [(id: String, result: DispatchResult)],
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> DispatchRecorded {
        guard !results.isEmpty else { return DispatchRecorded(finished: [], sent: []) }
        let sql = work.sql
        try await MessageStore.lock(results.map(\.id), on: sql)
        var sent: [SentRow] = []
        var retries: [RetryRow] = []
        var failed: [FailedRow] = []
        var events: [MessageEventRow] = []
        for (id, result) in results {
            switch result {
            case .sent(let providerID, let segments):
                sent.append(SentRow(id: id, providerID: providerID, segments: segments))
                events.append(MessageEventRow(id: id, status: .sent, detail: "provider \(providerID)"))
            case .retry(let at, let error):
                retries.append(RetryRow(id: id, at: at, error: error))
                events.append(MessageEventRow(id: id, status: .queued, detail: "retry: \(error)"))
            case .failed(let code, let message):
                failed.append(FailedRow(id: id, code: code, message: message))
                events.append(MessageEventRow(id: id, status: .failed, detail: "\(code): \(message)"))
            }
        }
        let updatedAt = instant.milliseconds
        var updated = Set<String>()
        let sentTable = BulkTable<SentRow>(
            name: "messages",
            columns: [
                .text("id") { $0.id }, .text("status") { _ in MessageStatus.sent.rawValue },
                .text("provider_id") { $0.providerID },
                .integer("provider_segments") { $0.segments }, .bigint("updated_at") { _ in updatedAt },
            ]
        )
        let sentIDs = try await updateStillSending(
            sql,
            sentTable,
            rows: sent,
            extra:
                "lease_until = NULL, provider_segments = COALESCE(messages.provider_segments, v.new_provider_segments)",
            skip: ["provider_segments"]
        )
        updated.formUnion(sentIDs)
        let retryTable = BulkTable<RetryRow>(
            name: "messages",
            columns: [
                .text("id") { $0.id }, .text("status") { _ in MessageStatus.queued.rawValue },
                .bigint("not_before") { $0.at.milliseconds },
                .text("error_message") { $0.error }, .bigint("updated_at") { _ in updatedAt },
            ]
        )
        updated.formUnion(try await updateStillSending(sql, retryTable, rows: retries, extra: "lease_until = NULL"))
        let failedTable = BulkTable<FailedRow>(
            name: "messages",
            columns: [
                .text("id") { $0.id }, .text("status") { _ in MessageStatus.failed.rawValue },
                .text("error_code") { $0.code },
                .text("error_message") { $0.message }, .bigint("updated_at") { _ in updatedAt },
            ]
        )
        let failedIDs = try await updateStillSending(sql, failedTable, rows: failed, extra: "lease_until = NULL")
        updated.formUnion(failedIDs)
        try await MessageStore.insertEvents(events.filter { updated.contains($0.id) }, at: instant, on: sql)
        guard !failedIDs.isEmpty else { return DispatchRecorded(finished: [], sent: sentIDs) }
        return DispatchRecorded(finished: try await MessageStore.lockInOrder(failedIDs, on: sql), sent: sentIDs)
    }

    /// Updates rows still in `sending` (a delivery report may have overtaken the dispatcher);
    /// the table's first column is the id. Returns the ids it changed.
    static func updateStillSending<Row>(
        _ sql: any SQLDatabase,
        _ table: BulkTable<Row>,
        rows: [Row],
        extra: String,
        skip: Set<String> = []
    ) async throws -> [String] {
        guard !rows.isEmpty else { return [] }
        let columns = Array(table.sqlColumns.dropFirst())
        let aliases = ["row_key"] + columns.map { "new_" + $0.name }
        var assignments = columns.filter { !skip.contains($0.name) }.map { "\($0.name) = v.new_\($0.name)" }
        assignments.append(extra)
        var query: SQLQueryString = "WITH v (\(unsafeRaw: aliases.joined(separator: ", "))) AS ("
        query += BulkRows.source(table, aliases: aliases, dialect: sql.storeDialect, rows: rows[...])
        query +=
            ") UPDATE messages SET \(unsafeRaw: assignments.joined(separator: ", ")) FROM v WHERE messages.id = v.row_key AND messages.status = 'sending'"
        query += " RETURNING messages.id"
        return try await sql.raw(query).all().map { try $0.value("id") }
    }

    // MARK: Delivery reports

    /// What a delivery report did to a message.
    public struct StatusChange: Sendable {
        public var message: Message
        public var previous: MessageStatus
        /// False when the report repeated or came out of order and changed nothing.
        public var changed: Bool
    }

    /// A delivery report to apply.
    public struct Report: Sendable {
        public var messageID: String?
        public var providerID: String
        public var status: MessageStatus
        public var errorCode: String?
        public var errorMessage: String?
        public var segments: Int?

        public init(
            messageID: String?,
            providerID: String,
            status: MessageStatus,
            errorCode: String?,
            errorMessage: String?,
            segments: Int?
        ) {
            self.messageID = messageID
            self.providerID = providerID
            self.status = status
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.segments = segments
        }
    }

    /// What applying a batch of reports did.
    public struct ReportsApplied: Sendable {
        /// One change per report, in order (nil when it named no message we know).
        public var changes: [StatusChange?]
        /// The messages the batch moved to a final status, in id order: their holds are to be settled.
        public var finished: [Message]
    }

    /// Applies delivery reports in the caller's unit of work, each to the message it names (by
    /// our id, or the provider's). A message never moves backwards; a repeat changes nothing.
    public static func applyReports(_ reports: [Report], at instant: Date, in work: UnitOfWork) async throws
        -> ReportsApplied
    {
        guard !reports.isEmpty else { return ReportsApplied(changes: [], finished: []) }
        let sql = work.sql
        do {
            // Resolve provider ids first, then lock every named message in one order.
            var ids = Set(reports.compactMap(\.messageID))
            let providerIDs = Array(Set(reports.filter { $0.messageID == nil }.map(\.providerID)))
            for chunk in providerIDs.inListChunks {
                for row in try await sql.raw(
                    "SELECT id FROM messages WHERE \(chunk.sqlMembership("provider_id", for: sql))"
                )
                .all() {
                    ids.insert(try row.value("id"))
                }
            }
            var byID: [String: Message] = [:]
            var byProvider: [String: String] = [:]
            for message in try await MessageStore.lockInOrder(ids, on: sql) {
                byID[message.id] = message
                if let provider = message.providerID { byProvider[provider] = message.id }
            }
            var changes: [StatusChange?] = []
            var touched: [String: Message] = [:]
            var events: [MessageEventRow] = []
            for report in reports {
                guard let id = report.messageID ?? byProvider[report.providerID], var message = byID[id] else {
                    changes.append(nil)
                    continue
                }
                let previous = message.status
                if let known = message.providerID, known != report.providerID {
                    changes.append(StatusChange(message: message, previous: previous, changed: false))
                    continue
                }
                guard previous.accepts(report.status) else {
                    changes.append(StatusChange(message: message, previous: previous, changed: false))
                    continue
                }
                message.status = report.status
                message.providerID = report.providerID
                if let segments = report.segments { message.providerSegments = segments }
                message.errorCode = report.errorCode ?? message.errorCode
                message.errorMessage = report.errorMessage ?? message.errorMessage
                message.updatedAt = instant
                byID[id] = message
                touched[id] = message
                let detail = [report.errorCode.map { "error \($0)" }, report.segments.map { "\($0) segments" }]
                    .compactMap { $0 }.joined(separator: ", ")
                events.append(MessageEventRow(id: id, status: report.status, detail: detail.isEmpty ? nil : detail))
                changes.append(StatusChange(message: message, previous: previous, changed: true))
            }
            try await BulkRows.update(sql, MessageStore.reportRows(at: instant), rows: Array(touched.values))
            try await MessageStore.insertEvents(events, at: instant, on: sql)
            return ReportsApplied(
                changes: changes,
                finished: touched.values.filter { $0.status.isFinal }.sorted { $0.id < $1.id }
            )
        }
    }

    /// The columns a delivery report changes, keyed by id.
    static func reportRows(at instant: Date) -> BulkTable<Message> {
        BulkTable(
            name: "messages",
            columns: [
                .text("id") { $0.id }, .text("status") { $0.status.rawValue }, .text("provider_id") { $0.providerID },
                .integer("provider_segments") { $0.providerSegments }, .text("error_code") { $0.errorCode },
                .text("error_message") { $0.errorMessage },
                .bigint("lease_until") { _ in nil }, .bigint("updated_at") { _ in instant.milliseconds },
            ]
        )
    }

    /// Cancels, in the caller's unit of work, a campaign's messages that have not been
    /// dispatched, and returns them (now final, their holds still to void).
    public static func cancelQueued(
        campaign: String,
        organization: OrganizationID,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> [Message] {
        let sql = work.sql
        let messages = try await cancelQueued(
            matching: "campaign_id = \(bind: campaign)",
            organization: organization,
            detail: "campaign canceled",
            at: instant,
            on: sql
        )
        try await sql.raw(
            """
            UPDATE campaigns SET status = 'canceled', canceled_at = \(bind: instant.milliseconds)
            WHERE id = \(bind: campaign) AND organization_id = \(bind: organization.rawValue)
            """
        ).run()
        return messages
    }

    /// Cancels every queued message from a number of an organisation (the number was released),
    /// in the caller's unit of work; returns them for settlement (their holds are released).
    public static func cancelQueued(
        fromNumber number: String,
        organization: OrganizationID,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> [Message] {
        try await cancelQueued(
            matching: "from_number = \(bind: number)",
            organization: organization,
            detail: "its sending number was released",
            at: instant,
            on: work.sql
        )
    }

    /// Cancels an organisation's queued messages matching a condition, with the event saying why.
    static func cancelQueued(
        matching condition: SQLQueryString,
        organization: OrganizationID,
        detail: String,
        at instant: Date,
        on sql: any SQLDatabase
    ) async throws -> [Message] {
        let rows = try await sql.raw(
            """
            UPDATE messages SET status = 'canceled', updated_at = \(bind: instant.milliseconds)
            WHERE id IN (SELECT id FROM messages WHERE \(condition) AND organization_id = \(bind: organization.rawValue)
                         AND status = 'queued' \(unsafeRaw: MessageStore.lockOrder(sql)))
            RETURNING \(unsafeRaw: MessageStore.columns)
            """
        ).all()
        let messages = try rows.map(MessageStore.message)
        try await MessageStore.insertEvents(
            messages.map { MessageEventRow(id: $0.id, status: .canceled, detail: detail) },
            at: instant,
            on: sql
        )
        return messages
    }

    /// Messages whose hold passed its timeout while still pending.
    public func timedOut(now: Date, limit: Int) async throws -> [Message] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: MessageStore.columns.split(separator: ",").map { "m." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
                FROM ledger_holds h JOIN messages m ON m.id = h.reference
                WHERE h.status = 'pending' AND h.timeout_at <= \(bind: now.milliseconds)
                ORDER BY h.timeout_at LIMIT \(bind: limit)
                """
            ).all().map(MessageStore.message)
        }
    }

    /// Fails, in the caller's unit of work, a message that was never handed to the provider
    /// before its hold timed out, and returns it (now final, its hold still to void); a message
    /// that moved on meanwhile is left alone.
    public static func expire(_ messageID: String, reason: String, at instant: Date, in work: UnitOfWork) async throws
        -> [Message]
    {
        let sql = work.sql
        do {
            let messages = try await sql.raw(
                """
                UPDATE messages SET status = 'failed', error_code = 'expired', error_message = \(bind: reason), lease_until = NULL,
                    updated_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: messageID) AND status IN ('queued', 'sending') RETURNING \(unsafeRaw: MessageStore.columns)
                """
            ).all().map(MessageStore.message)
            guard !messages.isEmpty else { return [] }
            try await MessageStore.insertEvents(
                [MessageEventRow(id: messageID, status: .failed, detail: reason)],
                at: instant,
                on: sql
            )
            return messages
        }
    }

    /// Adds a history step without changing the status (e.g. "charged after the timeout").
    public func note(_ messageID: String, status: MessageStatus, detail: String, at instant: Date) async throws {
        try await database.transaction { sql in
            try await MessageStore.insertEvents(
                [MessageEventRow(id: messageID, status: status, detail: detail)],
                at: instant,
                on: sql
            )
        }
    }

    // MARK: Reading

    /// The ids of a message's media column ("med_a,med_b").
    static func mediaIDs(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map(String.init)
    }

    static func message(_ row: any SQLRow) throws -> Message {
        guard let status = MessageStatus(rawValue: try row.value("status")),
            let kind = MessageKind(rawValue: try row.value("kind")),
            let channel = Channel(rawValue: try row.value("channel")),
            let direction = MessageDirection(rawValue: try row.value("direction"))
        else { throw StoreError.unreadableRow("message") }
        var message = Message(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            campaignID: try row.optional("campaign_id"),
            conversationID: try row.optional("conversation_id"),
            direction: direction,
            kind: kind,
            from: try row.value("from_number"),
            to: try row.value("to_number"),
            body: try row.value("body"),
            channel: channel,
            segments: try row.value("segments"),
            credits: Credits(milli: try row.value("credits")),
            status: status,
            holdID: try row.optional("hold_id", as: String.self).map(HoldID.init),
            charged: row.contains(column: "charged")
                ? try row.optional("charged", as: Int64.self).map(Credits.init(milli:)) : nil,
            providerID: try row.optional("provider_id"),
            providerSegments: try row.optional("provider_segments"),
            errorCode: try row.optional("error_code"),
            errorMessage: try row.optional("error_message"),
            flagged: try row.value("flagged", as: Int.self) == 1,
            notBefore: try row.date("not_before"),
            attempts: try row.value("attempts"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
        let media = MessageStore.mediaIDs(row.contains(column: "media") ? try row.optional("media") : nil)
        message.media = media.isEmpty ? nil : media
        message.reprocessOf = row.contains(column: "reprocess_of") ? try row.optional("reprocess_of") : nil
        message.reprocessedAs = row.contains(column: "reprocessed_as") ? try row.optional("reprocessed_as") : nil
        return message
    }

    /// One message of an organisation, with its status history.
    public func message(_ id: String, of organization: OrganizationID) async throws -> (Message, [MessageEvent])? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    \(unsafeRaw: MessageStore.selectWithCharge) WHERE m.id = \(bind: id) AND m.organization_id = \(bind: organization.rawValue)
                    """
                ).first()
            else { return nil }
            let message = try MessageStore.message(row)
            var events = try await sql.raw(
                "SELECT status, detail, created_at FROM message_events WHERE message_id = \(bind: id) ORDER BY id"
            ).all().map {
                guard let status = MessageStatus(rawValue: try $0.value("status")) else {
                    throw StoreError.unreadableRow("message event")
                }
                return MessageEvent(status: status, detail: try $0.optional("detail"), at: try $0.date("created_at"))
            }
            let first: MessageStatus = message.direction == .inbound ? .received : .queued
            if events.first?.status != first {
                events.insert(MessageEvent(status: first, detail: nil, at: message.createdAt), at: 0)
            }
            return (message, events)
        }
    }

    /// A message by id in any organisation (workers).
    public func message(_ id: String) async throws -> Message? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: MessageStore.columns) FROM messages WHERE id = \(bind: id)").first()
                .map(MessageStore.message)
        }
    }

    /// Messages by id (settlement of a batch).
    public func messages(_ ids: [String]) async throws -> [Message] {
        guard !ids.isEmpty else { return [] }
        return try await database.read { sql in
            try await sql.raw(
                "SELECT \(unsafeRaw: MessageStore.columns) FROM messages WHERE \(ids.sqlMembership("id", for: sql))"
            ).all().map(MessageStore.message)
        }
    }

    /// A campaign of an organisation.
    public func campaign(_ id: String, of organization: OrganizationID) async throws -> Campaign? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT id, organization_id, account_id, actor, actor_name, body, channel, automated, send_at, not_before, status, requested,
                           accepted, skipped, credits_reserved, created_at, canceled_at, media
                    FROM campaigns WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                    """
                ).first()
            else { return nil }
            let skipped =
                (try? JSONDecoder().decode(
                    [SkipReason: Int].self,
                    from: Data(try row.value("skipped", as: String.self).utf8)
                )) ?? [:]
            guard let status = CampaignStatus(rawValue: try row.value("status")) else {
                throw StoreError.unreadableRow("campaign")
            }
            var campaign = Campaign(
                id: try row.value("id"),
                organizationID: organization,
                account: AccountID(try row.value("account_id")),
                actor: try row.value("actor"),
                actorName: try row.value("actor_name"),
                body: try row.value("body"),
                channel: Channel(rawValue: try row.value("channel")) ?? .sms,
                automated: try row.value("automated", as: Int.self) == 1,
                sendAt: try row.optionalDate("send_at"),
                notBefore: try row.date("not_before"),
                status: status,
                requested: try row.value("requested"),
                accepted: try row.value("accepted"),
                skipped: skipped,
                creditsReserved: Credits(milli: try row.value("credits_reserved")),
                createdAt: try row.date("created_at"),
                canceledAt: try row.optionalDate("canceled_at")
            )
            let media = MessageStore.mediaIDs(try row.optional("media"))
            campaign.media = media.isEmpty ? nil : media
            return campaign
        }
    }

    /// A campaign's messages counted by status, and the credits charged and released. A text
    /// re-sent from toll-free counts once, by its re-send; the credits of both attempts count.
    public func campaignTotals(_ id: String) async throws -> (
        counts: [MessageStatus: Int], charged: Credits, released: Credits
    ) {
        try await database.read { sql in
            var counts: [MessageStatus: Int] = [:]
            var charged = Credits.zero
            var released = Credits.zero
            for row in try await sql.raw(
                """
                SELECT m.status,
                       CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM messages AS rs WHERE rs.reprocess_of = m.id) THEN 0 ELSE 1 END) AS BIGINT) AS n,
                       CAST(COALESCE(SUM(CASE WHEN h.status IN ('posted', 'timed_out', 'voided') THEN h.posted_amount ELSE 0 END), 0) AS BIGINT) AS charged,
                       CAST(COALESCE(SUM(CASE WHEN h.status IN ('posted', 'timed_out', 'voided') THEN h.amount - h.posted_amount ELSE 0 END), 0) AS BIGINT) AS released
                FROM messages m LEFT JOIN ledger_holds h ON h.id = m.hold_id WHERE m.campaign_id = \(bind: id) GROUP BY m.status
                """
            ).all() {
                guard let status = MessageStatus(rawValue: try row.value("status")) else {
                    throw StoreError.unreadableRow("message status")
                }
                let count: Int = try row.value("n")
                if count > 0 { counts[status] = count }
                charged += Credits(milli: try row.value("charged"))
                released += Credits(milli: try row.value("released"))
            }
            return (counts, charged, released)
        }
    }

    /// An organisation's campaigns, newest first.
    /// Campaign ids with their creation instants, newest first, after `cursor`.
    public func campaigns(of organization: OrganizationID, after cursor: RecencyCursor? = nil, limit: Int) async throws
        -> [RecencyCursor]
    {
        try await database.read { sql in
            var query: SQLQueryString =
                "SELECT id, created_at FROM campaigns WHERE organization_id = \(bind: organization.rawValue)"
            if let cursor { query += cursor.condition(instant: "created_at", id: "id") }
            query += " ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map {
                RecencyCursor(milliseconds: try $0.value("created_at"), id: try $0.value("id"))
            }
        }
    }
}
