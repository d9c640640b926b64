import ArgumentParser
import AsyncHTTPClient
import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import NIOCore

/// `textcredits simulate …`: drive the Simulator from the command line.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulator tools.",
        subcommands: [SimulateInbound.self, SimulateCall.self]
    )
}

/// `textcredits simulate inbound`: an inbound text through the same signed webhook a provider uses.
struct SimulateInbound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Send an inbound text to an organisation's number through the server's signed webhook."
    )

    @Option(help: "The server's URL; --database must be the server's database (it holds the webhook's signing token).")
    var server: String = "http://127.0.0.1:8080"
    @Option(help: "The organisation whose number receives the text.") var org: String?
    @Option(help: "The number that receives the text (instead of --org).") var to: String?
    @Option(help: "The sender's phone number.") var from: String
    @Argument(help: "The text.") var text: String
    @Option(help: "A picture sent with it (a picture message): JPEG, PNG, GIF or WebP, up to 5 MB.")
    var media: String?
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if (org == nil) == (to == nil) { throw ValidationError("Give exactly one of --org or --to.") }
    }

    func run() async throws {
        let (token, number) = try await withServices(database) { services -> (String, String) in
            guard let token = try await services.stores.numbers.secret("simulator_auth_token") else {
                throw ValidationError(
                    "The database has no Simulator token yet: start the server once with `textcredits serve` on this database."
                )
            }
            if let to { return (token, to) }
            let organization = OrganizationID(org ?? "")
            guard try await services.stores.organizations.organization(organization) != nil else {
                throw ValidationError("No organisation \(org ?? "").")
            }
            return (token, try await services.sendingNumbers.sendingNumber(organization))
        }
        var mediaParameters: [String: String] = ["NumMedia": "0"]
        if let media {
            guard let bytes = FileManager.default.contents(atPath: media) else {
                throw ValidationError("\(media) cannot be read.")
            }
            // The Simulator keeps what it "received" in the server's database, as the provider
            // would keep it; the webhook names it by its digest.
            let digest = try await withServices(database) { services in
                do {
                    return try await services.media.keepSimulated(bytes)
                } catch let error as MediaError {
                    throw ValidationError("\(media): \(error.message)")
                }
            }
            mediaParameters = ["NumMedia": "1", "MediaUrl0": SimulatorProvider.mediaScheme + digest]
        }
        let parameters = mediaParameters.merging([
            "MessageSid": "SMsiminbound\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20))",
            "From": from,
            "To": number, "Body": text, "NumSegments": "1", "AccountSid": "ACsimulator",
        ]) { _, new in new }
        let url = server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/webhooks/simulator/inbound"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(
            name: "X-Twilio-Signature",
            value: TwilioSignature.sign(url: url, parameters: parameters, authToken: token)
        )
        request.body = .bytes(
            ByteBuffer(string: FormEncoding.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        )
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard (200..<300).contains(response.status.code) else {
            // The webhook is signed for the address the server gives itself (its public URL, else
            // http://127.0.0.1:PORT): "localhost" or another name for it does not match.
            let hint =
                response.status.code == 403
                ? " Give --server exactly as the server names itself (its --public-url, else http://127.0.0.1:PORT)."
                : ""
            throw ValidationError("The server answered \(response.status.code): \(String(buffer: body))\(hint)")
        }
        print("Delivered \"\(text)\"\(media == nil ? "" : " with a picture") from \(from) to \(number).")
    }
}

/// `textcredits simulate call`: someone calls an organisation's number; the Simulator follows the
/// server's TwiML as the provider would (forwarding, voicemail, transcription) and says what came of it.
struct SimulateCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract:
            "Call an organisation's number through the server's signed voice webhooks (forwarding numbers ending 0004 do not answer; others answer and talk 95 seconds)."
    )

    @Option(
        help: "The server's URL, exactly as the server names itself (its --public-url, else http://127.0.0.1:PORT)."
    )
    var server: String = "http://127.0.0.1:8080"
    @Option(help: "The organisation whose number is called.") var org: String?
    @Option(help: "The number called (instead of --org).") var to: String?
    @Option(help: "The caller's phone number.") var from: String
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if (org == nil) == (to == nil) { throw ValidationError("Give exactly one of --org or --to.") }
    }

    func run() async throws {
        let summary = try await withServices(database) { services -> String in
            guard let simulator = services.simulator,
                try await services.stores.numbers.secret("simulator_auth_token") != nil
            else {
                throw ValidationError(
                    "The database has no Simulator token yet: start the server once with `textcredits serve` on this database."
                )
            }
            var number = to ?? ""
            var country = Country.us
            if let org {
                let organization = OrganizationID(org)
                guard try await services.stores.organizations.organization(organization) != nil else {
                    throw ValidationError("No organisation \(org).")
                }
                country = try await services.stores.organizations.organization(organization)?.country ?? .us
                number = try await services.sendingNumbers.sendingNumber(organization)
            }
            // The provider names the caller in E.164, as it names every number.
            let caller = (try? PhoneNumber(parsing: from, defaultCountry: country).e164) ?? from
            let sid: String
            do {
                sid = try await simulator.receiveCall(from: caller, to: number, server: server)
            } catch {
                throw ValidationError(
                    "The call did not go through: \(error). Give --server exactly as the server names itself (its --public-url, else http://127.0.0.1:PORT)."
                )
            }
            guard let call = try await services.stores.calls.call(byProviderID: sid) else {
                return "\(number) is not one of this server's numbers: the call was hung up."
            }
            var parts = ["Call from \(caller) to \(number): \(call.status.label.lowercased())"]
            if let connected = call.connectedDuration, connected > 0 {
                parts.append("forwarded, \(connected) s connected")
            }
            if let note = call.note { parts.append(note) }
            if call.voicemailMedia != nil { parts.append("voicemail left (\(call.voicemailSeconds ?? 0) s)") }
            if let text = call.transcription { parts.append("transcribed: “\(text)”") }
            parts.append("\(call.charged ?? .zero) credits charged")
            return parts.joined(separator: "; ") + "."
        }
        print(summary)
    }
}
