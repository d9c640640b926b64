import Foundation
import Testing

@testable import CreditsCore

@Suite struct SendingHoursTests {
    func date(_ iso: String) -> Date {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: iso) else { preconditionFailure("bad test date \(iso)") }
        return date
    }

    func weekdays(_ zone: String = "America/Chicago") throws -> SendingHours {
        try SendingHours(
            timeZone: zone,
            start: TimeOfDay("08:00")!,
            end: TimeOfDay("20:00")!,
            days: [.mon, .tue, .wed, .thu, .fri]
        )
    }

    @Test func insideTheWindowSendingIsAllowed() throws {
        // Tuesday 2026-11-17 10:00 in Chicago (UTC-6).
        let state = try weekdays().evaluate(at: date("2026-11-17T16:00:00Z"))
        #expect(state == .open(closesAt: date("2026-11-18T02:00:00Z")))
    }

    @Test func afterHoursTheNextOpeningIsTomorrowMorning() throws {
        let state = try weekdays().evaluate(at: date("2026-11-18T03:00:00Z"))  // Tue 21:00 local
        #expect(state == .closed(opensAt: date("2026-11-18T14:00:00Z")))
    }

    @Test func onAWeekendTheNextOpeningIsMonday() throws {
        let state = try weekdays().evaluate(at: date("2026-11-21T18:00:00Z"))  // Sat noon local
        #expect(state == .closed(opensAt: date("2026-11-23T14:00:00Z")))
    }

    @Test func theWindowOpensAtLocalTimeAcrossTheSpringDSTChange() throws {
        // Sunday 2026-03-08 is the US spring-forward day; Monday opens at 08:00 CDT = 13:00Z.
        let state = try weekdays().evaluate(at: date("2026-03-07T18:00:00Z"))
        #expect(state == .closed(opensAt: date("2026-03-09T13:00:00Z")))
    }

    @Test func theWindowOpensAtLocalTimeAcrossTheAutumnDSTChange() throws {
        // Sunday 2026-11-01 falls back; Monday opens at 08:00 CST = 14:00Z.
        let state = try weekdays().evaluate(at: date("2026-10-31T18:00:00Z"))
        #expect(state == .closed(opensAt: date("2026-11-02T14:00:00Z")))
    }

    @Test func aWindowThatStartsInASkippedHourOpensRightAfterTheJump() throws {
        let hours = try SendingHours(
            timeZone: "America/Chicago",
            start: TimeOfDay("02:30")!,
            end: TimeOfDay("05:00")!,
            days: [.sun]
        )
        let state = hours.evaluate(at: date("2026-03-08T06:00:00Z"))  // 00:00 CST on the change day
        #expect(state == .closed(opensAt: date("2026-03-08T08:00:00Z")))  // 03:00 CDT
    }

    @Test func southernHemisphereTimeZonesWork() throws {
        let hours = try weekdays("Australia/Sydney")
        // Monday 2026-11-23 07:59 AEDT (UTC+11) is just before opening.
        #expect(hours.evaluate(at: date("2026-11-22T20:59:00Z")) == .closed(opensAt: date("2026-11-22T21:00:00Z")))
    }

    @Test func invalidHoursAreRefused() {
        #expect(throws: SendingHoursError.unknownTimeZone("Mars/Base")) {
            try SendingHours(timeZone: "Mars/Base", start: .startOfDay, end: .endOfDay, days: [.mon])
        }
        #expect(throws: SendingHoursError.emptyWindow) {
            try SendingHours(timeZone: "UTC", start: TimeOfDay("09:00")!, end: TimeOfDay("09:00")!, days: [.mon])
        }
        #expect(throws: SendingHoursError.noDays) {
            try SendingHours(timeZone: "UTC", start: .startOfDay, end: .endOfDay, days: [])
        }
        #expect(TimeOfDay("25:00") == nil)
        #expect(TimeOfDay("24:00")?.minutes == 1440)
    }
}
