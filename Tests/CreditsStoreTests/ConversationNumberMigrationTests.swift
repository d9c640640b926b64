import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// Migration 24 gives each kept conversation the number of its latest text and lets one person
/// have a conversation on each number; SQLite's rebuilt table keeps every key intact.
@Suite struct ConversationNumberMigrationTests {
    @Test(arguments: TestDatabase.available)
    func keptConversationsTakeTheNumberOfTheirLatestText(_ store: TestDatabase) async throws {
        let url = try await store.makeURL()
        let database = try await DatabaseFactory.open(url, logger: TestDatabase.quietLogger)
        try await Migrator.migrate(database, through: 23)
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO organizations (id, name, country, time_zone, created_at)
                VALUES ('org_m', 'M', 'US', 'America/Chicago', 0)
                """
            ).run()
            try await sql.raw(
                """
                INSERT INTO conversations (id, organization_id, phone, status, unread, flagged, last_message_at, last_message, created_at)
                VALUES ('cnv_m', 'org_m', '+14155550181', 'open', 1, 0, 2, 'Hi again', 1)
                """
            ).run()
            for (id, direction, from, to, at) in [
                ("msg_1", "inbound", "+14155550181", "+14155550100", 1),
                ("msg_2", "inbound", "+14155550181", "+18885550100", 2),
            ] {
                try await sql.raw(
                    """
                    INSERT INTO messages (id, organization_id, conversation_id, direction, kind, from_number, to_number, body,
                        channel, segments, credits, status, flagged, not_before, attempts, created_at, updated_at)
                    VALUES (\(bind: id), 'org_m', 'cnv_m', \(bind: direction), 'inbound', \(bind: from), \(bind: to), 'Hi',
                        'sms', 0, 0, 'received', 0, \(bind: at), 0, \(bind: at), \(bind: at))
                    """
                ).run()
            }
        }
        let applied = try await Migrator.migrate(database)
        #expect(applied.map(\.version).contains(24))
        try await database.read { sql in
            let number = try await sql.raw("SELECT number FROM conversations WHERE id = 'cnv_m'").first()?
                .decode(column: "number", as: String.self)
            #expect(number == "+18885550100", "the number of the latest text")
            let kept = try await sql.raw("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = 'cnv_m'").first()?
                .decode(column: "n", as: Int.self)
            #expect(kept == 2)
        }
        // The same person on another number is another conversation; on the same number, refused.
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO conversations (id, organization_id, phone, number, status, unread, flagged, last_message_at, last_message, created_at)
                VALUES ('cnv_n', 'org_m', '+14155550181', '+14155550100', 'open', 0, 0, 3, 'x', 3)
                """
            ).run()
        }
        await #expect(throws: (any Error).self) {
            try await database.transaction { sql in
                try await sql.raw(
                    """
                    INSERT INTO conversations (id, organization_id, phone, number, status, unread, flagged, last_message_at, last_message, created_at)
                    VALUES ('cnv_o', 'org_m', '+14155550181', '+14155550100', 'open', 0, 0, 3, 'x', 3)
                    """
                ).run()
            }
        }
        if store == .sqlite {
            try await database.read { sql in
                let check = try await sql.raw("PRAGMA integrity_check").all().map {
                    try $0.decode(column: "integrity_check", as: String.self)
                }
                #expect(check == ["ok"])
                #expect(try await sql.raw("PRAGMA foreign_key_check").all().isEmpty)
                let enforced = try await sql.raw("PRAGMA foreign_keys").first()?.decode(
                    column: "foreign_keys",
                    as: Int.self
                )
                #expect(enforced == 1, "foreign keys are enforced again after the rebuild")
            }
        }
        await database.close()
        await store.cleanUp(url)
    }
}
