import CreditsAdapters
import Foundation
import TestSupport
import Testing

/// The SMTP client against aiosmtpd (a real SMTP server from PyPI) that requires STARTTLS and
/// AUTH. `.ci/run` installs it in a venv and sets TEXTCREDITS_TEST_SMTP_PYTHON to its python.
@Suite(
    .enabled(
        if: SMTPTestServer.isAvailable,
        "set TEXTCREDITS_TEST_SMTP_PYTHON to a python with aiosmtpd (.ci/run does)"
    )
)
struct SMTPClientTests {
    func client(_ server: SMTPTestServer, security: SMTPConfiguration.Security = .startTLS) -> SMTPClient {
        SMTPClient(
            configuration: SMTPConfiguration(
                host: "127.0.0.1",
                port: server.port,
                username: "mailer",
                password: "s3cret",
                security: security,
                from: "alerts@textcredits.example",
                trustRootsFile: server.certificate
            )
        )
    }

    @Test func aMailGoesOutOverSTARTTLSWithAuthentication() async throws {
        let server = try await SMTPTestServer.start()
        let mail = OutgoingMail(
            to: "owner@studio.example",
            subject: "SMS credits are running low — 24 left",
            body: "Hello Olive,\n.leading dot stays\nBye",
            id: "mail_1"
        )
        try await client(server).send(mail, at: Date(timeIntervalSince1970: 1_795_000_000))
        let received = try server.messages()
        #expect(received.count == 1)
        let message = try #require(received.first)
        #expect(message["tls"] as? Bool == true, "the message travelled after STARTTLS")
        #expect(message["from"] as? String == "alerts@textcredits.example")
        #expect(message["to"] as? [String] == ["owner@studio.example"])
        let data = try #require(message["data"] as? String)
        #expect(
            data.contains(
                "Subject: =?UTF-8?B?\(Data("SMS credits are running low — 24 left".utf8).base64EncodedString())?="
            )
        )
        #expect(data.contains("Message-ID: <mail_1@textcredits.example>"))
        #expect(
            data.contains("\r\n.leading dot stays\r\n"),
            "dot-stuffing is undone by the server, so the line arrives as written"
        )
    }

    @Test func aRefusedRecipientIsAPermanentFailure() async throws {
        let server = try await SMTPTestServer.start()
        do {
            try await client(server).send(OutgoingMail(to: "gone@nowhere.example", subject: "x", body: "y", id: "m2"))
            Issue.record("the recipient must be refused")
        } catch {
            #expect(!error.isTemporary, "a 5xx answer is not retried")
            #expect(error.message.contains("550"), "\(error.message)")
        }
        #expect(try server.messages().isEmpty)
    }

    @Test func aWrongPasswordFailsWithoutHanging() async throws {
        let server = try await SMTPTestServer.start()
        var configuration = client(server).configuration
        configuration.password = "wrong"
        configuration.sessionTimeout = .seconds(3)
        do {
            try await SMTPClient(configuration: configuration).send(
                OutgoingMail(to: "a@b.example", subject: "x", body: "y", id: "m4")
            )
            Issue.record("a wrong password must not send")
        } catch {
            // aiosmtpd 1.4 leaves a failed AUTH unanswered: the 3 s session deadline ends it (this
            // test would hang without it); a server that answers says 535.
            #expect(
                error.message.contains("535") || error.message.contains("closed the connection"),
                "\(error.message)"
            )
        }
        #expect(try server.messages().isEmpty)
    }

    @Test func aServerThatRequiresTLSRefusesAPlainSession() async throws {
        let server = try await SMTPTestServer.start()
        do {
            try await client(server, security: .none).send(
                OutgoingMail(to: "a@b.example", subject: "x", body: "y", id: "m3")
            )
            Issue.record("the server requires STARTTLS")
        } catch {
            #expect(error.message.contains("refused"), "\(error.message)")
        }
        #expect(try server.messages().isEmpty)
    }
}
