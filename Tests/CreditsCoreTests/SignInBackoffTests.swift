import CreditsCore
import Foundation
import Testing

@Suite struct SignInBackoffTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let backoff = SignInBackoff.emailFromAddress

    /// Runs tries `seconds` apart and says which were let through.
    func tries(_ count: Int, every seconds: TimeInterval) -> [Bool] {
        var tally: SignInBackoff.Tally?
        var outcomes: [Bool] = []
        for index in 0..<count {
            switch backoff.attempt(tally, at: start.addingTimeInterval(Double(index) * seconds)) {
            case .counted(let next):
                tally = next
                outcomes.append(true)
            case .wait:
                outcomes.append(false)
            }
        }
        return outcomes
    }

    @Test func fiveTriesAreFreeThenTheSixthWaits() {
        #expect(tries(7, every: 1) == [true, true, true, true, true, false, false])
    }

    @Test(arguments: [
        (5, 30.0), (6, 60.0), (7, 120.0), (8, 240.0), (9, 480.0), (10, 900.0), (11, 900.0), (60, 900.0),
        (Int.max, 900.0),
    ])
    func waitsDoubleUpToFifteenMinutes(_ failures: Int, _ wait: TimeInterval) {
        #expect(backoff.wait(after: failures) == wait)
    }

    @Test func aRefusedTryIsNotCountedSoHammeringDoesNotLengthenTheWait() throws {
        var tally: SignInBackoff.Tally?
        for second in 0..<5 {
            guard case .counted(let next) = backoff.attempt(tally, at: start.addingTimeInterval(Double(second))) else {
                Issue.record("try \(second) should count")
                return
            }
            tally = next
        }
        for second in 5..<30 {
            #expect(
                backoff.attempt(tally, at: start.addingTimeInterval(Double(second)))
                    == .wait(until: start.addingTimeInterval(34))
            )
        }
        guard case .counted(let after) = backoff.attempt(tally, at: start.addingTimeInterval(34)) else {
            Issue.record("after the wait the next try goes ahead")
            return
        }
        #expect(after.failures == 6)
    }

    @Test func aQuietDayForgetsEarlierFailures() {
        let tally = SignInBackoff.Tally(failures: 40, lastTry: start, nextTry: start.addingTimeInterval(900))
        #expect(
            backoff.attempt(tally, at: start.addingTimeInterval(24 * 3600))
                == .counted(
                    .init(
                        failures: 1,
                        lastTry: start.addingTimeInterval(24 * 3600),
                        nextTry: start.addingTimeInterval(24 * 3600)
                    )
                )
        )
    }

    @Test func aRightPasswordTakesItsTryBack() {
        let tally = SignInBackoff.Tally(failures: 5, lastTry: start, nextTry: start.addingTimeInterval(30))
        #expect(backoff.forgive(tally) == .init(failures: 4, lastTry: start, nextTry: start))
    }
}
