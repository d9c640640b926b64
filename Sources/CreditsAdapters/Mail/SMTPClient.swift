import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where and how to hand mail to a mail server.
public struct SMTPConfiguration: Sendable {
    public enum Security: String, Sendable {
        /// Plain connection upgraded with STARTTLS; refused if the server does not offer it.
        case startTLS = "starttls"
        /// No encryption (a relay on the same machine only).
        case none
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var security: Security
    /// The sender address of every mail.
    public var from: String
    /// A PEM file of certificate authorities to trust instead of the system's (a private relay, tests).
    public var trustRootsFile: String?
    /// The name given in EHLO.
    public var heloName: String
    /// The longest a whole session may take; a server that stops answering is given up on.
    public var sessionTimeout: TimeAmount = .seconds(60)

    public init(
        host: String,
        port: Int = 587,
        username: String? = nil,
        password: String? = nil,
        security: Security = .startTLS,
        from: String,
        trustRootsFile: String? = nil,
        heloName: String = "textcredits.local"
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.security = security
        self.from = from
        self.trustRootsFile = trustRootsFile
        self.heloName = heloName
    }
}

/// A mail to send.
public struct OutgoingMail: Sendable, Equatable {
    public var to: String
    public var subject: String
    public var body: String
    /// Stable id for the Message-ID header, so a retried mail is recognisable.
    public var id: String

    public init(to: String, subject: String, body: String, id: String) {
        self.to = to
        self.subject = subject
        self.body = body
        self.id = id
    }
}

/// Why a mail was not accepted.
public struct MailError: Error, Sendable, Equatable {
    /// A 4xx reply or a network problem: try again later.
    public var isTemporary: Bool
    public var message: String

    public init(isTemporary: Bool, message: String) {
        self.isTemporary = isTemporary
        self.message = message
    }
}

/// A small SMTP client (RFC 5321): EHLO, STARTTLS (RFC 3207), AUTH PLAIN (RFC 4954), one
/// message per connection, UTF-8 text with dot-stuffing.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration

    public init(configuration: SMTPConfiguration) { self.configuration = configuration }

    public func send(_ mail: OutgoingMail, at date: Date = Date()) async throws(MailError) {
        do {
            try await deliver(mail, at: date)
        } catch let error as MailError {
            throw error
        } catch {
            throw MailError(isTemporary: true, message: "The mail server could not be reached: \(error)")
        }
    }

    func deliver(_ mail: OutgoingMail, at date: Date) async throws {
        let configuration = configuration
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(15))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // Closing the channel ends the reply stream, so a stalled server surfaces as an error.
        let deadline = channel.channel.eventLoop.scheduleTask(in: configuration.sessionTimeout) {
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        try await channel.executeThenClose { inbound, outbound in
            var replies = SMTPReplies(inbound.makeAsyncIterator())
            func command(_ line: String, expect codes: Set<Int>) async throws -> SMTPReply {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                return try await replies.expect(codes, after: line.hasPrefix("AUTH") ? "AUTH" : line)
            }
            _ = try await replies.expect([220], after: "connect")
            var hello = try await command("EHLO \(configuration.heloName)", expect: [250])
            if configuration.security == .startTLS {
                guard hello.lines.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                    throw MailError(isTemporary: false, message: "The mail server does not offer STARTTLS.")
                }
                _ = try await command("STARTTLS", expect: [220])
                var tls = TLSConfiguration.makeClientConfiguration()
                if let file = configuration.trustRootsFile { tls.trustRoots = .file(file) }
                let context = try NIOSSLContext(configuration: tls)
                // SNI takes names only; for an address NIOSSL checks the certificate against the peer's IP.
                let isAddress = (try? SocketAddress(ipAddress: configuration.host, port: 0)) != nil
                let serverHostname = isAddress ? nil : configuration.host
                // The handler is made and added on the channel's event loop: it never crosses threads.
                let pipeline = channel.channel.pipeline
                try await channel.channel.eventLoop.submit {
                    try pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: serverHostname),
                        position: .first
                    )
                }.get()
                hello = try await command("EHLO \(configuration.heloName)", expect: [250])
            }
            if let username = configuration.username, let password = configuration.password {
                let token = Data("\u{0}\(username)\u{0}\(password)".utf8).base64EncodedString()
                _ = try await command("AUTH PLAIN \(token)", expect: [235])
            }
            _ = try await command("MAIL FROM:<\(configuration.from)>", expect: [250])
            _ = try await command("RCPT TO:<\(mail.to)>", expect: [250, 251])
            _ = try await command("DATA", expect: [354])
            try await outbound.write(
                ByteBuffer(string: SMTPMessage.data(mail, from: configuration.from, at: date) + ".\r\n")
            )
            _ = try await replies.expect([250], after: "end of DATA")
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }
}

/// One reply: its code and the text of each line.
struct SMTPReply {
    var code: Int
    var lines: [String]
}

/// Reads replies (possibly several lines, "250-…" then "250 …") from the server.
struct SMTPReplies {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var pending: [UInt8] = []

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }

    mutating func line() async throws -> String {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var bytes = pending[..<end]
                if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                let text = String(decoding: bytes, as: UTF8.self)
                pending.removeFirst(end + 1)
                return text
            }
            guard pending.count < 64 * 1024, let buffer = try await iterator.next() else {
                throw MailError(isTemporary: true, message: "The mail server closed the connection.")
            }
            pending += buffer.readableBytesView
        }
    }

    mutating func reply() async throws -> SMTPReply {
        var lines: [String] = []
        for _ in 0..<100 {
            let text = try await line()
            guard text.count >= 3, let code = Int(text.prefix(3)) else {
                throw MailError(isTemporary: true, message: "Unexpected reply: \(text)")
            }
            lines.append(String(text.dropFirst(4)))
            if text.count == 3 || text[text.index(text.startIndex, offsetBy: 3)] == " " {
                return SMTPReply(code: code, lines: lines)
            }
        }
        throw MailError(isTemporary: true, message: "The mail server's reply is too long.")
    }

    mutating func expect(_ codes: Set<Int>, after step: String) async throws -> SMTPReply {
        let reply = try await reply()
        guard codes.contains(reply.code) else {
            throw MailError(
                isTemporary: reply.code < 500,
                message: "The mail server refused \(step): \(reply.code) \(reply.lines.joined(separator: " "))"
            )
        }
        return reply
    }
}

/// The DATA section of a mail: headers and body, CRLF line ends, lines starting with "." doubled.
enum SMTPMessage {
    static func data(_ mail: OutgoingMail, from: String, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = from.split(separator: "@").last.map(String.init) ?? "textcredits.local"
        let headers = [
            "From: \(from)", "To: \(mail.to)", "Subject: \(header(mail.subject))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(mail.id)@\(domain)>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let body = mail.body.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n",
            omittingEmptySubsequences: false
        )
        .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n"
    }

    /// A header value, RFC 2047-encoded when it is not plain ASCII.
    static func header(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 32 }
        return plain ? value : "=?UTF-8?B?\(Data(value.utf8).base64EncodedString())?="
    }
}
