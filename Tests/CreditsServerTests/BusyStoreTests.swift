import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Another process holding SQLite's write lock (a backup, a second server on the same file) makes
/// writes wait; past the store's wait they are refused as busy — 503 with `Retry-After`, nothing
/// changed — never a 500.
@Suite struct BusyStoreTests {
    @Test func aWriteRefusedWhileAnotherProcessHoldsTheLockIsA503AndChangesNothing() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            guard case .sqlite(let path) = server.services.configuration.database else {
                Issue.record("the test server runs on SQLite")
                return
            }
            var browser = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let other = try await SQLiteStore.open(path: path, logger: TestDatabase.quietLogger)
            let holding = Holder()
            let held = Task {
                try await other.transaction { _ in
                    await holding.started()
                    await holding.waitForRelease()
                }
            }
            await holding.waitUntilStarted()

            let refused = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "(415) 555-2671"}"#
            )
            #expect(refused.status == .serviceUnavailable, "\(refused.text)")
            #expect(refused.headers[.retryAfter] == "2")
            #expect(refused.errorCode == "store_busy")

            // A form in the portal goes back to its page with the sentence, the typed text kept
            // in the browser's history.
            let form = try await browser.post("/settings/sms", ["header": "Hi from the gym"])
            #expect(form.status == .seeOther)
            #expect(browser.flash?.contains("did not make this one") == true, "\(browser.flash ?? "")")

            await holding.release()
            try await held.value
            await other.close()

            let contacts = try await server.request(.get, "/v1/contacts", key: org.ownerKey).list()
            #expect(contacts.isEmpty)
            let retried = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "(415) 555-2671"}"#
            )
            #expect(retried.status == .created)
        }
    }
}

/// Lets the test hold another connection's transaction open until it says so.
private actor Holder {
    private var isStarted = false
    private var startWaiters: [CheckedContinuation<Void, Never>] = []
    private var releaseWaiter: CheckedContinuation<Void, Never>?
    private var isReleased = false

    func started() {
        isStarted = true
        for waiter in startWaiters { waiter.resume() }
        startWaiters = []
    }

    func waitUntilStarted() async {
        if isStarted { return }
        await withCheckedContinuation { startWaiters.append($0) }
    }

    func waitForRelease() async {
        if isReleased { return }
        await withCheckedContinuation { releaseWaiter = $0 }
    }

    func release() {
        isReleased = true
        releaseWaiter?.resume()
        releaseWaiter = nil
    }
}
