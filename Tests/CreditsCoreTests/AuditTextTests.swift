import Foundation
import Testing

@testable import CreditsCore

/// Audit sentences keep text as text: only the figures the code put in are filled.
@Suite struct AuditTextTests {
    let outcome = LedgerOutcome(
        transfer: TransferID("tr_1"),
        operation: "post",
        amount: Credits(credits: 2),
        balanceAfter: Credits(credits: 98),
        availableAfter: Credits(credits: 97)
    )

    func record(_ message: AuditText) -> AuditRecord {
        AuditRecord(
            organization: OrganizationID("org_1"),
            actor: .system,
            action: .smsDelivered,
            message: message,
            at: Date(timeIntervalSince1970: 0)
        )
    }

    @Test func ledgerFiguresAreFilledFromTheOutcome() {
        let filled = record(
            "SMS message delivered to +14155552671. \(.amount) credits used. \(.availableAfter) remaining."
        ).filled(with: outcome)
        #expect(filled.message.description == "SMS message delivered to +14155552671. 2 credits used. 97 remaining.")
    }

    @Test func countedFiguresSayOneCreditAndTwoCredits() {
        let sentence: AuditText = "SMS message delivered. \(.counted("credit")) used. \(.availableAfter) remaining."
        var one = outcome
        one.amount = Credits(credits: 1)
        #expect(
            record(sentence).filled(with: one).message.description
                == "SMS message delivered. 1 credit used. 97 remaining."
        )
        #expect(
            record(sentence).filled(with: outcome).message.description
                == "SMS message delivered. 2 credits used. 97 remaining."
        )
        var half = outcome
        half.amount = Credits(milli: 1500)
        #expect(
            record("\(.counted("plan credit")) expired.").filled(with: half).message.description
                == "1.5 plan credits expired."
        )
        #expect(Credits(credits: 1).counted("plan credit") == "1 plan credit")
    }

    @Test func aPlaceholderTypedBySomeoneStaysAsTyped() {
        let reason = "{{amount}} and {{balance_after}}"
        let filled = record("Adjusted: \(reason). Pool balance \(.balanceAfter).").filled(with: outcome)
        #expect(filled.message.description == "Adjusted: {{amount}} and {{balance_after}}. Pool balance 98.")
    }

    @Test func aFigureNotYetFilledIsLeftOut() {
        let text: AuditText = "Pool balance \(.balanceAfter)."
        #expect(text.description == "Pool balance .")
        #expect(("Plain " as AuditText) + "text." == AuditText("Plain text."))
    }
}
