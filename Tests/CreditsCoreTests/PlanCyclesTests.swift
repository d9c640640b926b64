import CreditsCore
import Foundation
import Testing

@Suite struct PlanCyclesTests {
    let chicago = TimeZone(identifier: "America/Chicago")!

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func monthlyPeriodsStartAtLocalMidnightAcrossTheDSTChange() {
        // 15 Oct 2026 10:00 CDT; DST ends on 1 Nov 2026.
        let periods = PlanCycles.periods(
            startingAt: date("2026-10-15T15:00:00Z"),
            yearly: false,
            timeZone: chicago,
            through: date("2026-12-20T00:00:00Z")
        )
        #expect(
            periods.map(\.start) == [
                date("2026-10-15T05:00:00Z"), date("2026-11-15T06:00:00Z"), date("2026-12-15T06:00:00Z"),
            ]
        )
        #expect(periods.last?.end == date("2027-01-15T06:00:00Z"))
    }

    @Test func aPlanStartingOnThe31stRenewsOnTheLastDayOfShortMonths() {
        let periods = PlanCycles.periods(
            startingAt: date("2027-01-31T18:00:00Z"),
            yearly: false,
            timeZone: chicago,
            through: date("2027-04-01T12:00:00Z")
        )
        #expect(
            periods.map(\.start) == [
                date("2027-01-31T06:00:00Z"), date("2027-02-28T06:00:00Z"), date("2027-03-31T05:00:00Z"),
            ]
        )
    }

    @Test func yearlyPeriodsAndTheBoundaryInstantItself() {
        let start = date("2025-03-01T12:00:00Z")
        let periods = PlanCycles.periods(
            startingAt: start,
            yearly: true,
            timeZone: chicago,
            through: date("2026-03-01T06:00:00Z")
        )
        // 1 Mar 2026 00:00 CST is 06:00Z: the second year has begun at that very instant.
        #expect(periods.map(\.start) == [date("2025-03-01T06:00:00Z"), date("2026-03-01T06:00:00Z")])
        #expect(
            PlanCycles.periods(
                startingAt: start,
                yearly: true,
                timeZone: chicago,
                through: date("2026-03-01T05:59:59Z")
            ).count == 1
        )
        #expect(
            PlanCycles.periods(
                startingAt: start,
                yearly: true,
                timeZone: chicago,
                through: date("2025-02-01T00:00:00Z")
            ).isEmpty
        )
    }
}
