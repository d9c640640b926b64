import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing
import Yams

/// The OpenAPI document served at /openapi.yaml documents every route, and its examples match
/// their schemas.
@Suite struct OpenAPITests {
    static func document() throws -> [String: Any] {
        try #require(try Yams.load(yaml: OpenAPIDocument.text) as? [String: Any])
    }

    @Test func everyRouteIsDocumentedAndNothingElse() async throws {
        try await TestServer.with(.sqlite) { server in
            let document = try OpenAPITests.document()
            let paths = try #require(document["paths"] as? [String: Any])
            let table = buildRouter(services: server.services).routes
            var routes = Set<String>()
            for route in table.routes {
                let key = "\(route.method.rawValue.lowercased()) \(route.path)"
                routes.insert(key)
                let operations = paths[route.path] as? [String: Any]
                #expect(operations?[route.method.rawValue.lowercased()] != nil, "\(key) is not documented")
            }
            for (path, value) in paths {
                for method in (value as? [String: Any] ?? [:]).keys
                where ["get", "post", "put", "patch", "delete"].contains(method) {
                    #expect(routes.contains("\(method) \(path)"), "\(method) \(path) is documented but not served")
                }
            }
        }
    }

    @Test func examplesMatchTheirSchemas() throws {
        let document = try OpenAPITests.document()
        let validator = SchemaValidator(document: document)
        var checked = 0
        func visit(_ node: Any, path: String) {
            if let object = node as? [String: Any] {
                if let schema = object["schema"], let example = object["example"] {
                    for problem in validator.problems(example, against: schema, at: path) { Issue.record("\(problem)") }
                    checked += 1
                }
                for (key, value) in object { visit(value, path: path + "/" + key) }
            } else if let array = node as? [Any] {
                for (index, value) in array.enumerated() { visit(value, path: path + "/\(index)") }
            }
        }
        visit(document["paths"] as Any, path: "paths")
        visit(document["components"] as Any, path: "components")
        #expect(checked >= 20)
    }

    /// Real responses of the messaging routes match the schemas the document gives for them.
    @Test func liveResponsesMatchTheirSchemas() async throws {
        @Sendable func check(_ response: TestResponse, _ schema: String, _ label: String) throws {
            let validator = SchemaValidator(document: try OpenAPITests.document())
            let value = try JSONSerialization.jsonObject(with: Data(response.text.utf8))
            let problems = validator.problems(value, against: ["$ref": "#/components/schemas/\(schema)"], at: label)
            #expect(problems.isEmpty, "\(problems)")
        }
        try await TestServer.with(.sqlite, live: true) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 20)
            try await server.importContacts(org, phones: ["+14155550001", "+14155550002", "+14155551234"])
            let send = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json:
                    #"{"groups": ["families"], "to": ["+14155551234"], "body": "Hi {{first_name}}!", "override_sending_hours": true}"#
            )
            try check(send, "Campaign", "send")
            let id = try #require(try send.object()["id"] as? String)
            let settled = try await server.eventually(30) {
                try await server.request(.get, "/v1/campaigns/\(id)", key: org.ownerKey).object()["status"] as? String
                    == "completed"
            }
            #expect(settled)
            try check(try await server.request(.get, "/v1/campaigns/\(id)", key: org.ownerKey), "Campaign", "campaign")
            let messageID = try #require(
                try await server.services.database.read { sql in
                    try await sql.raw("SELECT id FROM messages WHERE campaign_id = \(bind: id) AND status = 'failed'")
                        .first()?.decode(column: "id", as: String.self)
                }
            )
            try check(
                try await server.request(.get, "/v1/messages/\(messageID)", key: org.ownerKey),
                "Message",
                "message"
            )
            try await server.inbound(org, from: "+14155551234", "Can we switch to Tuesday?")
            let list = try await server.request(.get, "/v1/conversations", key: org.ownerKey)
            let validator = SchemaValidator(document: try OpenAPITests.document())
            for (index, item) in try list.list().enumerated() {
                let problems = validator.problems(
                    item,
                    against: ["$ref": "#/components/schemas/Conversation"],
                    at: "conversations[\(index)]"
                )
                #expect(problems.isEmpty, "\(problems)")
            }
            let conversation = try #require(try list.list().first?["id"] as? String)
            try check(
                try await server.request(
                    .post,
                    "/v1/conversations/\(conversation)/messages",
                    key: org.ownerKey,
                    json: #"{"body": "Yes"}"#
                ),
                "Message",
                "reply"
            )
            try check(
                try await server.request(.get, "/v1/conversations/\(conversation)", key: org.ownerKey),
                "ConversationDetail",
                "conversation"
            )
            try check(
                try await server.request(
                    .post,
                    "/v1/sms/brand",
                    key: org.ownerKey,
                    json: #"""
                        {"legal_name": "Bright Stars Gym LLC", "tax_id": "123456789", "website": "https://brightstars.example", "email": "office@brightstars.example",
                         "phone": "+14155552600", "street": "1 Main St", "city": "Austin", "region": "TX", "postal_code": "78701", "vertical": "education"}
                        """#
                ),
                "SMSSetup",
                "brand"
            )
            try check(
                try await server.request(.post, "/v1/sms/numbers", key: org.ownerKey, json: #"{"area_code": "512"}"#),
                "SMSSetup",
                "numbers"
            )
            try check(try await server.request(.get, "/v1/sms/setup", key: org.ownerKey), "SMSSetup", "setup")

            try check(
                try await server.request(
                    .put,
                    "/v1/billing/payment-method",
                    key: org.ownerKey,
                    json: #"{"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040}}"#
                ),
                "Billing",
                "method"
            )
            try check(
                try await server.request(
                    .patch,
                    "/v1/billing/details",
                    key: org.ownerKey,
                    json: #"{"tax_id": "12-3456789"}"#
                ),
                "Billing",
                "details"
            )
            try check(
                try await server.request(.get, "/v1/credits/purchases/quote?credits=100", key: org.ownerKey),
                "Quote",
                "quote"
            )
            let bought = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"credits": 100}"#,
                headers: ["Idempotency-Key": "p1"]
            )
            try check(bought, "Purchase", "purchase")
            let purchase = try #require(try bought.object()["id"] as? String)
            try check(
                try await server.request(.get, "/v1/invoices/\(purchase)", key: org.ownerKey),
                "Invoice",
                "invoice"
            )
            try await server.request(
                .put,
                "/v1/billing/payment-method",
                key: org.ownerKey,
                json: #"{"card": {"number": "4000000000000002", "exp_month": 12, "exp_year": 2040}}"#
            )
            _ = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: org.ownerKey,
                json: #"{"credits": 100}"#,
                headers: ["Idempotency-Key": "p2"]
            )
            try check(
                try await server.request(
                    .put,
                    "/v1/credits/auto-renew",
                    key: org.ownerKey,
                    json: #"{"enabled": false, "credits": 500, "threshold": 100}"#
                ),
                "AutoRenew",
                "auto-renew"
            )
            try check(
                try await server.request(.get, "/v1/credits/auto-renew", key: org.ownerKey),
                "AutoRenew",
                "auto-renew read"
            )
            for (index, item) in try await server.request(.get, "/v1/credits/purchases", key: org.ownerKey).list()
                .enumerated()
            {
                let problems = validator.problems(
                    item,
                    against: ["$ref": "#/components/schemas/Purchase"],
                    at: "purchases[\(index)]"
                )
                #expect(problems.isEmpty, "\(problems)")
            }
        }
    }

    @Test func theValidatorCatchesAWrongExample() {
        let validator = SchemaValidator(document: [
            "components": [
                "schemas": [
                    "Thing": [
                        "type": "object", "required": ["id"],
                        "properties": ["id": ["type": "integer"]],
                    ]
                ]
            ]
        ])
        let schema: [String: Any] = ["$ref": "#/components/schemas/Thing"]
        #expect(validator.problems(["id": 3], against: schema, at: "x").isEmpty)
        #expect(!validator.problems(["id": "three"], against: schema, at: "x").isEmpty)
        #expect(!validator.problems([String: Any](), against: schema, at: "x").isEmpty)
    }
}

/// A small JSON Schema checker for the parts of OpenAPI 3.1 the document uses.
struct SchemaValidator {
    let document: [String: Any]

    func resolve(_ schema: Any) -> [String: Any] {
        guard let object = schema as? [String: Any] else { return [:] }
        guard let reference = object["$ref"] as? String, reference.hasPrefix("#/") else { return object }
        var node: Any = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = (node as? [String: Any])?[String(part)] ?? [:]
        }
        return resolve(node)
    }

    func problems(_ value: Any, against schema: Any, at path: String) -> [String] {
        let schema = resolve(schema)
        if let all = schema["allOf"] as? [Any] { return all.flatMap { problems(value, against: $0, at: path) } }
        if let one = schema["oneOf"] as? [Any] {
            return one.contains(where: { problems(value, against: $0, at: path).isEmpty })
                ? [] : ["\(path): matches none of oneOf"]
        }
        var found: [String] = []
        if let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map({ [$0] }) {
            if !types.contains(where: { matches(value, type: $0) }) { return ["\(path): \(value) is not \(types)"] }
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) {
            found.append("\(path): \(value) is not one of \(allowed)")
        }
        if let object = value as? [String: Any] {
            for required in schema["required"] as? [String] ?? [] where object[required] == nil {
                found.append("\(path): missing \(required)")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, child) in object {
                if let property = properties[key] {
                    found += problems(child, against: property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    if additional as? Bool == false { found.append("\(path): \(key) is not allowed") }
                    if let additionalSchema = additional as? [String: Any] {
                        found += problems(child, against: additionalSchema, at: "\(path).\(key)")
                    }
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] {
            for (index, item) in array.enumerated() { found += problems(item, against: items, at: "\(path)[\(index)]") }
        }
        if let text = value as? String, let maximum = schema["maxLength"] as? Int, text.count > maximum {
            found.append("\(path): longer than \(maximum)")
        }
        return found
    }

    func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "string": return value is String
        case "boolean": return value is Bool
        case "integer": return value is Int
        case "number": return value is Int || value is Double
        case "array": return value is [Any]
        case "object": return value is [String: Any]
        default: return false
        }
    }
}
