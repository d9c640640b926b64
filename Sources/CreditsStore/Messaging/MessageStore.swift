import CreditsCore
import Foundation
import SQLKit

/// The outbox and the record of every message: insertion with campaigns, claiming for
/// dispatch (SKIP LOCKED on PostgreSQL), delivery reports, and reads for the API.
///
/// Every write that moves messages to a final status (a delivery report, a refusal at dispatch,
/// a cancel, an expiry) calls `settleFinal` with them inside its own transaction, so a message is
/// never final with its hold still pending: the status and its charge or release commit
/// together, even if the process dies right after.
public struct MessageStore: Sendable {
    /// Settles the holds of messages that have just reached a final status, inside the
    /// transaction that moved them there.
    public typealias FinalSettlement = @Sendable (_ sql: any SQLDatabase, _ messages: [Message]) async throws -> Void

    public let database: any Database
    let settleFinal: FinalSettlement

    public init(database: any Database, settleFinal: @escaping FinalSettlement) {
        self.database = database
        self.settleFinal = settleFinal
    }

    static let columns = """
        id, organization_id, campaign_id, conversation_id, direction, kind, from_number, to_number, body, channel, segments, credits, status,
        hold_id, provider_id, provider_segments, error_code, error_message, flagged, not_before, attempts, created_at, updated_at
        """

    /// The columns for a SELECT from `messages m LEFT JOIN ledger_holds h`: what a message was
    /// charged is read from its hold, the one record of it.
    static let selectWithCharge = "SELECT " + columns.split(separator: ",").map { "m." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .joined(separator: ", ") + ", CASE WHEN h.status IS NULL OR h.status = 'pending' THEN NULL ELSE h.posted_amount END AS charged" +
        " FROM messages m LEFT JOIN ledger_holds h ON h.id = m.hold_id"

    // MARK: Writing

    /// Inserts messages inside the caller's transaction. The first history step ("queued", or
    /// "received") is the message's own creation; only a `detail` is stored as an event.
    public static func insert(_ messages: [Message], detail: String? = nil, on sql: any SQLDatabase) async throws {
        guard !messages.isEmpty else { return }
        try await BulkRows.insert(sql, table: "messages",
            columns: [.text("id"), .text("organization_id"), .text("campaign_id"), .text("conversation_id"), .text("direction"), .text("kind"),
                      .text("from_number"), .text("to_number"), .text("body"), .text("channel"), .integer("segments"), .bigint("credits"),
                      .text("status"), .text("hold_id"), .integer("flagged"), .bigint("not_before"), .bigint("created_at"), .bigint("updated_at")],
            rows: messages.map { message in
                [SQLCell(message.id), SQLCell(message.organizationID.rawValue), SQLCell(message.campaignID), SQLCell(message.conversationID),
                 SQLCell(message.direction), SQLCell(message.kind.rawValue), SQLCell(message.from), SQLCell(message.to), SQLCell(message.body),
                 SQLCell(message.channel.rawValue), SQLCell(message.segments), SQLCell(message.credits.milli), SQLCell(message.status.rawValue),
                 SQLCell(message.holdID?.rawValue), SQLCell(message.flagged ? 1 : 0), SQLCell(message.notBefore.milliseconds),
                 SQLCell(message.createdAt.milliseconds), SQLCell(message.updatedAt.milliseconds)]
            })
        if let detail { try await insertEvents(messages.map { ($0.id, $0.status.rawValue, detail) }, at: messages[0].createdAt, on: sql) }
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

    private static func lockInOrder(_ ids: some Collection<String>, selecting columns: String, on sql: any SQLDatabase) async throws -> [any SQLRow] {
        let sorted = Set(ids).sorted()
        let order = lockOrder(sql)
        var rows: [any SQLRow] = []
        for chunk in sorted.inListChunks {
            rows += try await sql.raw("""
                SELECT \(unsafeRaw: columns) FROM messages WHERE id IN (\(chunk.inList(for: sql))) \(unsafeRaw: order)
                """).all()
        }
        return rows
    }

    /// The clause that locks selected messages in the one order: byte order of the id, the same
    /// order Swift sorts ids in, so the database's collation cannot reorder chunk boundaries.
    static func lockOrder(_ sql: any SQLDatabase) -> String {
        sql.dialect.name == "sqlite" ? "ORDER BY id" : #"ORDER BY id COLLATE "C" FOR UPDATE"#
    }

    static func insertEvents(_ events: [(String, String, String?)], at instant: Date, on sql: any SQLDatabase) async throws {
        try await BulkRows.insert(sql, table: "message_events",
            columns: [.text("message_id"), .text("status"), .text("detail"), .bigint("created_at")],
            rows: events.map { [SQLCell($0.0), SQLCell($0.1), SQLCell($0.2), SQLCell(instant.milliseconds)] })
    }

    /// Inserts a campaign row inside the caller's transaction.
    public static func insert(_ campaign: Campaign, on sql: any SQLDatabase) async throws {
        let skipped = String(decoding: try OrganizationStore.jsonEncoder.encode(campaign.skipped), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO campaigns (id, organization_id, account_id, actor, actor_name, body, channel, automated, send_at, not_before, status,
                                   requested, accepted, skipped, credits_reserved, created_at)
            VALUES (\(bind: campaign.id), \(bind: campaign.organizationID.rawValue), \(bind: campaign.account.rawValue), \(bind: campaign.actor),
                    \(bind: campaign.actorName), \(bind: campaign.body), \(bind: campaign.channel.rawValue), \(bind: campaign.automated ? 1 : 0),
                    \(bind: campaign.sendAt?.milliseconds), \(bind: campaign.notBefore.milliseconds), \(bind: campaign.status),
                    \(bind: campaign.requested), \(bind: campaign.accepted), \(bind: skipped), \(bind: campaign.creditsReserved.milli),
                    \(bind: campaign.createdAt.milliseconds))
            """).run()
    }

    // MARK: Dispatch

    /// Claims up to `limit` queued messages that are due: they become `sending` with a lease.
    /// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several servers claim disjoint sets; on
    /// SQLite the single write lock does the same.
    public func claim(limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedMessage] {
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await database.transaction { sql in
            try await sql.raw("""
                UPDATE messages SET status = 'sending', lease_until = \(bind: leaseUntil.milliseconds), attempts = attempts + 1,
                    updated_at = \(bind: now.milliseconds)
                WHERE id IN (SELECT id FROM messages WHERE status = 'queued' AND not_before <= \(bind: now.milliseconds)
                             ORDER BY not_before LIMIT \(bind: limit)\(unsafeRaw: skipLocked))
                RETURNING id, organization_id, from_number, to_number, body, channel, attempts, retry, hold_id
                """).all().map { row in
                ClaimedMessage(id: try row.value("id"), organizationID: OrganizationID(try row.value("organization_id")),
                               from: try row.value("from_number"), to: try row.value("to_number"), body: try row.value("body"),
                               channel: Channel(rawValue: try row.value("channel")) ?? .sms, attempts: try row.value("attempts"),
                               retry: try row.value("retry", as: Int.self) == 1,
                               holdID: try row.optional("hold_id", as: String.self).map(HoldID.init))
            }
        }
    }

    /// Puts messages whose dispatcher died (lease expired) back in the queue, marked as retries.
    @discardableResult
    public func reclaimExpiredLeases(now: Date) async throws -> Int {
        try await database.transaction { sql in
            let rows = try await sql.raw("""
                UPDATE messages SET status = 'queued', retry = 1, lease_until = NULL, not_before = \(bind: now.milliseconds),
                    updated_at = \(bind: now.milliseconds)
                WHERE id IN (SELECT id FROM messages WHERE status = 'sending' AND lease_until < \(bind: now.milliseconds)
                             \(unsafeRaw: MessageStore.lockOrder(sql)))
                RETURNING id
                """).all()
            try await MessageStore.insertEvents(try rows.map { (try $0.value("id"), "queued", "dispatch interrupted; retrying") }, at: now, on: sql)
            return rows.count
        }
    }

    /// Records dispatch results in one transaction. A message a delivery report already moved
    /// past `sending` keeps its newer status.
    public func record(_ results: [(id: String, result: DispatchResult)], at instant: Date) async throws {
        guard !results.isEmpty else { return }
        try await database.transaction { sql in
            try await MessageStore.lock(results.map(\.id), on: sql)
            var sent: [[SQLCell]] = []
            var retries: [[SQLCell]] = []
            var failed: [[SQLCell]] = []
            var events: [(String, String, String?)] = []
            for (id, result) in results {
                switch result {
                case let .sent(providerID, segments):
                    sent.append([SQLCell(id), SQLCell("sent"), SQLCell(providerID), SQLCell(segments.map(Int64.init)), SQLCell(instant.milliseconds)])
                    events.append((id, "sent", "provider \(providerID)"))
                case let .retry(at, error):
                    retries.append([SQLCell(id), SQLCell("queued"), SQLCell(at.milliseconds), SQLCell(error), SQLCell(instant.milliseconds)])
                    events.append((id, "queued", "retry: \(error)"))
                case let .failed(code, message):
                    failed.append([SQLCell(id), SQLCell("failed"), SQLCell(code), SQLCell(message), SQLCell(instant.milliseconds)])
                    events.append((id, "failed", "\(code): \(message)"))
                }
            }
            var updated = Set<String>()
            updated.formUnion(try await MessageStore.update(sql, rows: sent,
                columns: [.text("status"), .text("provider_id"), .integer("provider_segments"), .bigint("updated_at")],
                extra: "lease_until = NULL, provider_segments = COALESCE(messages.provider_segments, v.new_provider_segments)",
                skip: ["provider_segments"]))
            updated.formUnion(try await MessageStore.update(sql, rows: retries,
                columns: [.text("status"), .bigint("not_before"), .text("error_message"), .bigint("updated_at")], extra: "lease_until = NULL"))
            let failedIDs = try await MessageStore.update(sql, rows: failed,
                columns: [.text("status"), .text("error_code"), .text("error_message"), .bigint("updated_at")], extra: "lease_until = NULL")
            updated.formUnion(failedIDs)
            try await MessageStore.insertEvents(events.filter { updated.contains($0.0) }, at: instant, on: sql)
            if !failedIDs.isEmpty {
                try await settleFinal(sql, try await MessageStore.lockInOrder(failedIDs, on: sql))
            }
        }
    }

    /// Updates rows still in `sending` (a delivery report may have overtaken the dispatcher);
    /// returns the ids it changed.
    static func update(_ sql: any SQLDatabase, rows: [[SQLCell]], columns: [SQLColumn], extra: String, skip: Set<String> = []) async throws -> [String] {
        guard !rows.isEmpty else { return [] }
        let aliases = ["row_key"] + columns.map { "new_" + $0.name }
        var assignments = columns.filter { !skip.contains($0.name) }.map { "\($0.name) = v.new_\($0.name)" }
        assignments.append(extra)
        var query: SQLQueryString = "WITH v (\(unsafeRaw: aliases.joined(separator: ", "))) AS ("
        query += BulkRows.source([.text("id")] + columns, aliases: aliases, dialect: sql.dialect.name, rows: rows[...])
        query += ") UPDATE messages SET \(unsafeRaw: assignments.joined(separator: ", ")) FROM v WHERE messages.id = v.row_key AND messages.status = 'sending'"
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

        public init(messageID: String?, providerID: String, status: MessageStatus, errorCode: String?, errorMessage: String?, segments: Int?) {
            self.messageID = messageID
            self.providerID = providerID
            self.status = status
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.segments = segments
        }
    }

    /// Applies delivery reports in one transaction, each to the message it names (by our id, or
    /// the provider's). A message never moves backwards; a repeat changes nothing. Returns one
    /// change per report (nil when it named no message). Messages a report finishes are settled
    /// in the same transaction.
    public func applyReports(_ reports: [Report], at instant: Date) async throws -> [StatusChange?] {
        guard !reports.isEmpty else { return [] }
        return try await database.transaction { sql in
            // Resolve provider ids first, then lock every named message in one order.
            var ids = Set(reports.compactMap(\.messageID))
            let providerIDs = Array(Set(reports.filter { $0.messageID == nil }.map(\.providerID)))
            for chunk in providerIDs.inListChunks {
                for row in try await sql.raw("SELECT id FROM messages WHERE provider_id IN (\(chunk.inList(for: sql)))").all() {
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
            var events: [(String, String, String?)] = []
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
                let detail = [report.errorCode.map { "error \($0)" }, report.segments.map { "\($0) segments" }].compactMap { $0 }.joined(separator: ", ")
                events.append((id, report.status.rawValue, detail.isEmpty ? nil : detail))
                changes.append(StatusChange(message: message, previous: previous, changed: true))
            }
            try await BulkRows.update(sql, table: "messages", key: .text("id"),
                columns: [.text("status"), .text("provider_id"), .integer("provider_segments"), .text("error_code"), .text("error_message"),
                          .bigint("lease_until"), .bigint("updated_at")],
                rows: touched.values.map { message in
                    [SQLCell(message.id), SQLCell(message.status.rawValue), SQLCell(message.providerID), SQLCell(message.providerSegments.map(Int64.init)),
                     SQLCell(message.errorCode), SQLCell(message.errorMessage), SQLCell.null, SQLCell(instant.milliseconds)]
                })
            try await MessageStore.insertEvents(events, at: instant, on: sql)
            try await settleFinal(sql, touched.values.filter { $0.status.isFinal }.sorted { $0.id < $1.id })
            return changes
        }
    }

    /// Cancels a campaign's messages that have not been dispatched (voiding their holds) and
    /// returns them.
    public func cancelQueued(campaign: String, organization: OrganizationID, at instant: Date) async throws -> [Message] {
        try await database.transaction { sql in
            let rows = try await sql.raw("""
                UPDATE messages SET status = 'canceled', updated_at = \(bind: instant.milliseconds)
                WHERE id IN (SELECT id FROM messages WHERE campaign_id = \(bind: campaign) AND organization_id = \(bind: organization.rawValue)
                             AND status = 'queued' \(unsafeRaw: MessageStore.lockOrder(sql)))
                RETURNING \(unsafeRaw: MessageStore.columns)
                """).all()
            let messages = try rows.map(MessageStore.message)
            try await MessageStore.insertEvents(messages.map { ($0.id, "canceled", "campaign canceled") }, at: instant, on: sql)
            try await settleFinal(sql, messages)
            try await sql.raw("""
                UPDATE campaigns SET status = 'canceled', canceled_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: campaign) AND organization_id = \(bind: organization.rawValue)
                """).run()
            return messages
        }
    }

    /// Messages whose hold passed its timeout while still pending.
    public func timedOut(now: Date, limit: Int) async throws -> [Message] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: MessageStore.columns.split(separator: ",").map { "m." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
                FROM ledger_holds h JOIN messages m ON m.id = h.reference
                WHERE h.status = 'pending' AND h.timeout_at <= \(bind: now.milliseconds)
                ORDER BY h.timeout_at LIMIT \(bind: limit)
                """).all().map(MessageStore.message)
        }
    }

    /// Fails a message that was never handed to the provider before its hold timed out, and
    /// releases its hold; a message that moved on meanwhile is left alone.
    public func expire(_ messageID: String, reason: String, at instant: Date) async throws {
        try await database.transaction { sql in
            let messages = try await sql.raw("""
                UPDATE messages SET status = 'failed', error_code = 'expired', error_message = \(bind: reason), lease_until = NULL,
                    updated_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: messageID) AND status IN ('queued', 'sending') RETURNING \(unsafeRaw: MessageStore.columns)
                """).all().map(MessageStore.message)
            guard !messages.isEmpty else { return }
            try await MessageStore.insertEvents([(messageID, "failed", reason)], at: instant, on: sql)
            try await settleFinal(sql, messages)
        }
    }

    /// Adds a history step without changing the status (e.g. "charged after the timeout").
    public func note(_ messageID: String, status: MessageStatus, detail: String, at instant: Date) async throws {
        try await database.transaction { sql in
            try await MessageStore.insertEvents([(messageID, status.rawValue, detail)], at: instant, on: sql)
        }
    }

    // MARK: Reading

    static func message(_ row: any SQLRow) throws -> Message {
        guard let status = MessageStatus(rawValue: try row.value("status")), let kind = MessageKind(rawValue: try row.value("kind")),
              let channel = Channel(rawValue: try row.value("channel")) else { throw StoreError.unreadableRow("message") }
        return Message(id: try row.value("id"), organizationID: OrganizationID(try row.value("organization_id")),
                       campaignID: try row.optional("campaign_id"), conversationID: try row.optional("conversation_id"),
                       direction: try row.value("direction"), kind: kind, from: try row.value("from_number"), to: try row.value("to_number"),
                       body: try row.value("body"), channel: channel, segments: try row.value("segments"), credits: Credits(milli: try row.value("credits")),
                       status: status, holdID: try row.optional("hold_id", as: String.self).map(HoldID.init),
                       charged: row.contains(column: "charged") ? try row.optional("charged", as: Int64.self).map(Credits.init(milli:)) : nil,
                       providerID: try row.optional("provider_id"),
                       providerSegments: try row.optional("provider_segments"), errorCode: try row.optional("error_code"),
                       errorMessage: try row.optional("error_message"), flagged: try row.value("flagged", as: Int.self) == 1,
                       notBefore: try row.date("not_before"), attempts: try row.value("attempts"), createdAt: try row.date("created_at"),
                       updatedAt: try row.date("updated_at"))
    }

    /// One message of an organisation, with its status history.
    public func message(_ id: String, of organization: OrganizationID) async throws -> (Message, [MessageEvent])? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                \(unsafeRaw: MessageStore.selectWithCharge) WHERE m.id = \(bind: id) AND m.organization_id = \(bind: organization.rawValue)
                """).first() else { return nil }
            let message = try MessageStore.message(row)
            var events = try await sql.raw("SELECT status, detail, created_at FROM message_events WHERE message_id = \(bind: id) ORDER BY id").all().map {
                MessageEvent(status: try $0.value("status"), detail: try $0.optional("detail"), at: try $0.date("created_at"))
            }
            let first = message.direction == "inbound" ? "received" : "queued"
            if events.first?.status != first { events.insert(MessageEvent(status: first, detail: nil, at: message.createdAt), at: 0) }
            return (message, events)
        }
    }

    /// A message by id in any organisation (workers).
    public func message(_ id: String) async throws -> Message? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: MessageStore.columns) FROM messages WHERE id = \(bind: id)").first().map(MessageStore.message)
        }
    }

    /// Messages by id (settlement of a batch).
    public func messages(_ ids: [String]) async throws -> [Message] {
        guard !ids.isEmpty else { return [] }
        return try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: MessageStore.columns) FROM messages WHERE id IN (\(ids.inList(for: sql)))").all().map(MessageStore.message)
        }
    }

    /// A campaign of an organisation.
    public func campaign(_ id: String, of organization: OrganizationID) async throws -> Campaign? {
        try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT id, organization_id, account_id, actor, actor_name, body, channel, automated, send_at, not_before, status, requested,
                       accepted, skipped, credits_reserved, created_at, canceled_at
                FROM campaigns WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                """).first() else { return nil }
            let skipped = (try? JSONDecoder().decode([String: Int].self, from: Data(try row.value("skipped", as: String.self).utf8))) ?? [:]
            return Campaign(id: try row.value("id"), organizationID: organization, account: AccountID(try row.value("account_id")),
                            actor: try row.value("actor"), actorName: try row.value("actor_name"), body: try row.value("body"),
                            channel: Channel(rawValue: try row.value("channel")) ?? .sms, automated: try row.value("automated", as: Int.self) == 1,
                            sendAt: try row.optionalDate("send_at"), notBefore: try row.date("not_before"), status: try row.value("status"),
                            requested: try row.value("requested"), accepted: try row.value("accepted"), skipped: skipped,
                            creditsReserved: Credits(milli: try row.value("credits_reserved")), createdAt: try row.date("created_at"),
                            canceledAt: try row.optionalDate("canceled_at"))
        }
    }

    /// A campaign's messages counted by status, and the credits charged and released.
    public func campaignTotals(_ id: String) async throws -> (counts: [String: Int], charged: Credits, released: Credits) {
        try await database.read { sql in
            var counts: [String: Int] = [:]
            var charged = Credits.zero
            var released = Credits.zero
            for row in try await sql.raw("""
                SELECT m.status, COUNT(*) AS n,
                       CAST(COALESCE(SUM(CASE WHEN h.status IN ('posted', 'timed_out', 'voided') THEN h.posted_amount ELSE 0 END), 0) AS BIGINT) AS charged,
                       CAST(COALESCE(SUM(CASE WHEN h.status IN ('posted', 'timed_out', 'voided') THEN h.amount - h.posted_amount ELSE 0 END), 0) AS BIGINT) AS released
                FROM messages m LEFT JOIN ledger_holds h ON h.id = m.hold_id WHERE m.campaign_id = \(bind: id) GROUP BY m.status
                """).all() {
                counts[try row.value("status")] = try row.value("n")
                charged += Credits(milli: try row.value("charged"))
                released += Credits(milli: try row.value("released"))
            }
            return (counts, charged, released)
        }
    }

    /// An organisation's campaigns, newest first.
    /// Campaign ids with their creation instants, newest first, after `cursor`.
    public func campaigns(of organization: OrganizationID, after cursor: RecencyCursor? = nil, limit: Int) async throws -> [RecencyCursor] {
        try await database.read { sql in
            var query: SQLQueryString = "SELECT id, created_at FROM campaigns WHERE organization_id = \(bind: organization.rawValue)"
            if let cursor { query += cursor.condition(instant: "created_at", id: "id") }
            query += " ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map { RecencyCursor(milliseconds: try $0.value("created_at"), id: try $0.value("id")) }
        }
    }
}
