import Foundation
import Testing

@testable import CreditsCore

/// The pure schedule rules: when monthly auto-renew buys and how much, how dispatch backs off,
/// and when a send may go out.
@Suite struct SchedulesTests {
    static func date(_ iso: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: iso) else { preconditionFailure("bad test date \(iso)") }
        return date
    }

    /// (now, the month it falls in, that month's purchase instant): the 1st at 10:00 Chicago time,
    /// 16:00Z in winter (CST) and 15:00Z in summer (CDT).
    static let purchases: [(String, String, String)] = [
        ("2026-12-01T15:59:59Z", "2026-12", "2026-12-01T16:00:00Z"),
        ("2026-12-31T23:00:00Z", "2026-12", "2026-12-01T16:00:00Z"),
        ("2027-01-01T05:59:59Z", "2026-12", "2026-12-01T16:00:00Z"),  // still 31 Dec in Chicago
        ("2027-01-01T06:00:00Z", "2027-01", "2027-01-01T16:00:00Z"),
        ("2027-04-01T15:00:00Z", "2027-04", "2027-04-01T15:00:00Z"),
        ("2027-11-15T12:00:00Z", "2027-11", "2027-11-01T15:00:00Z"),  // DST ended on 7 Nov; the 1st was still CDT
    ]

    @Test(arguments: purchases)
    func theMonthlyPurchaseIsOnTheFirstAtTenCentralTime(_ row: (String, String, String)) throws {
        let (now, month, at) = row
        let purchase = try #require(MonthlyRenewal.purchase(containing: SchedulesTests.date(now)))
        #expect(purchase.month == month)
        #expect(purchase.at == SchedulesTests.date(at))
    }

    /// (now, the next purchase instant).
    static let nextPurchases: [(String, String)] = [
        ("2026-12-01T15:59:59Z", "2026-12-01T16:00:00Z"),
        ("2026-12-01T16:00:00Z", "2027-01-01T16:00:00Z"),
        ("2027-03-02T00:00:00Z", "2027-04-01T15:00:00Z"),  // CST now, CDT then
    ]

    @Test(arguments: nextPurchases)
    func theNextPurchaseIsThisMonthsUntilItHasPassed(_ row: (String, String)) {
        #expect(MonthlyRenewal.nextPurchase(after: SchedulesTests.date(row.0)) == SchedulesTests.date(row.1))
    }

    /// (available, threshold, amount, credits bought): what restores the balance above the threshold,
    /// in whole multiples of the amount.
    static let monthlyAmounts: [(Int64, Int64, Int64, Int64)] = [
        (150, 100, 200, 0),  // not below the threshold
        (100, 100, 200, 0),  // at it
        (99, 100, 200, 200),
        (-99, 100, 200, 200),  // 199 short: one multiple restores it above
        (-100, 100, 200, 400),  // 200 short: at the threshold is not above it
        (-650, 100, 200, 800),
    ]

    @Test(arguments: monthlyAmounts)
    func theMonthlyPurchaseBuysWholeMultiplesOfTheAmount(_ row: (Int64, Int64, Int64, Int64)) {
        let (available, threshold, amount, expected) = row
        #expect(
            MonthlyRenewal.credits(available: Credits(credits: available), threshold: threshold, amount: amount)
                == expected
        )
    }

    /// (attempt that failed, seconds until the next try, or nil when dispatch gives up).
    static let backoffs: [(Int, TimeInterval?)] = [(1, 2), (2, 4), (3, 8), (7, 128), (8, nil), (12, nil)]

    @Test(arguments: backoffs)
    func dispatchBacksOffExponentiallyThenGivesUp(_ row: (Int, TimeInterval?)) {
        let now = SchedulesTests.date("2026-11-30T12:00:00Z")
        let decision = DispatchRetry.decision(afterAttempt: row.0, at: now)
        if let seconds = row.1 {
            #expect(decision == .retry(at: now.addingTimeInterval(seconds)))
        } else {
            #expect(decision == .giveUp)
        }
    }

    /// (age of the purchase at a look-up that left it pending, seconds to the next look-up)
    static let purchaseLooks: [(TimeInterval, TimeInterval)] = [
        (60, 60), (300, 60), (600, 60), (900, 90), (3600, 360), (36_000, 3600), (3 * 86_400, 3600),
        (-5, 60),
    ]

    @Test(arguments: purchaseLooks)
    func aPendingPurchaseIsLookedUpAfterATenthOfItsAgeBetweenAMinuteAndAnHour(
        _ age: TimeInterval,
        _ wait: TimeInterval
    ) {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let instant = start.addingTimeInterval(age)
        #expect(PurchaseCheck.nextLook(startedAt: start, at: instant) == instant.addingTimeInterval(wait))
        #expect(PurchaseCheck.firstLook(startedAt: start) == start.addingTimeInterval(60))
    }

    @Test func theBackoffNeverExceedsFiveMinutes() {
        let now = SchedulesTests.date("2026-11-30T12:00:00Z")
        for attempt in 1..<DispatchRetry.attemptsMax {
            guard case .retry(let at) = DispatchRetry.decision(afterAttempt: attempt, at: now) else {
                Issue.record("attempt \(attempt) should be retried")
                continue
            }
            #expect(at.timeIntervalSince(now) <= DispatchRetry.backoffMax)
        }
    }

    static func weekdays() throws -> SendingHours {
        try SendingHours(
            timeZone: "America/Chicago",
            start: TimeOfDay("08:00")!,
            end: TimeOfDay("20:00")!,
            days: [.mon, .tue, .wed, .thu, .fri]
        )
    }

    /// A timing case: when it is asked, with what, and what it decides.
    struct TimingCase: Sendable, CustomTestStringConvertible {
        let name: String
        let now: String
        var sendAt: String?
        var automated = false
        var override = false
        let expected: SendTiming

        var testDescription: String { name }
    }

    static let tuesdayTen = "2026-11-17T16:00:00Z"  // Tue 10:00 in Chicago
    static let tuesdayNight = "2026-11-18T03:00:00Z"  // Tue 21:00 in Chicago
    static let wednesdayEight = "2026-11-18T14:00:00Z"  // Wed 08:00 in Chicago

    static let timings: [TimingCase] = [
        TimingCase(name: "inside the window it goes now", now: tuesdayTen, expected: .notBefore(date(tuesdayTen))),
        TimingCase(
            name: "a manual send after hours is refused",
            now: tuesdayNight,
            expected: .outsideHours(opens: date(wednesdayEight))
        ),
        TimingCase(
            name: "an automated send waits for the window",
            now: tuesdayNight,
            automated: true,
            expected: .notBefore(date(wednesdayEight))
        ),
        TimingCase(
            name: "an override goes now if allowed",
            now: tuesdayNight,
            override: true,
            expected: .needsOverride(now: date(tuesdayNight))
        ),
        TimingCase(
            name: "a scheduled send inside the window goes at its time",
            now: tuesdayTen,
            sendAt: "2026-11-17T18:00:00Z",
            expected: .notBefore(date("2026-11-17T18:00:00Z"))
        ),
        TimingCase(
            name: "a scheduled send after hours waits for the window",
            now: tuesdayTen,
            sendAt: tuesdayNight,
            expected: .notBefore(date(wednesdayEight))
        ),
        TimingCase(
            name: "a send_at a little in the past goes now",
            now: tuesdayTen,
            sendAt: "2026-11-17T15:59:30Z",
            expected: .notBefore(date(tuesdayTen))
        ),
        TimingCase(
            name: "a send_at over a minute in the past is refused",
            now: tuesdayTen,
            sendAt: "2026-11-17T15:58:59Z",
            expected: .sendAtOutOfRange
        ),
        TimingCase(
            name: "a send_at over a year ahead is refused",
            now: tuesdayTen,
            sendAt: "2027-11-19T16:00:00Z",
            expected: .sendAtOutOfRange
        ),
    ]

    @Test(arguments: timings)
    func aSendGoesNowAtItsTimeOrWhenTheWindowOpens(_ timing: TimingCase) throws {
        let decided = SendTiming.decide(
            sendAt: timing.sendAt.map(SchedulesTests.date),
            automated: timing.automated,
            override: timing.override,
            hours: try SchedulesTests.weekdays(),
            now: SchedulesTests.date(timing.now)
        )
        #expect(decided == timing.expected)
    }
}
