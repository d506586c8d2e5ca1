// Hostile and broken files, each built from its reproducer (typed-wrong, deep, forged, huge,
// truncated): every loader returns a clear error saying what and where, never throws, aborts or
// overflows the stack, and leaves the files it read as they were. Without sanitizers the test
// runs under a 2 GiB address-space limit (ulimit -v), so a loader that sized an allocation from
// a forged length would fail here rather than succeed on a big machine.

#include <QtTest>

#include <QCryptographicHash>
#include <QDirIterator>
#include <QTemporaryDir>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "inference/backends/backend.h"
#include "inference/chat/chat_format.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/safetensors.h"
#include "inference/checkpoint/weights.h"
#include "inference/model/model.h"
#include "inference/session/snapshot_file.h"
#include "inference/text/tokenizer.h"
#include "tests/engine/engine_test_support.h"

namespace fs = std::filesystem;
using fm::testing::read_file;
using fm::testing::write_file;
using Files = std::map<std::string, std::string>;            // name -> bytes written into a copy of tiny-chat
using Loader = std::function<std::string(const fs::path&)>;  // "" on success, else the error

Q_DECLARE_METATYPE(Files)
Q_DECLARE_METATYPE(Loader)
Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(std::vector<uint8_t>)

namespace {

const std::string kData = FM_TEST_DATA_DIR;

// Every file's name and SHA-256: what "nothing on disk changed" compares.
std::map<QString, QByteArray> folder_digest(const fs::path& dir) {
    std::map<QString, QByteArray> out;
    QDirIterator it(QString::fromStdString(dir.string()), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) continue;
        QCryptographicHash h(QCryptographicHash::Sha256);
        h.addData(&f);
        out[path] = h.result();
    }
    return out;
}

std::string nested(const std::string& open, const std::string& close, size_t depth, const std::string& inner = "0") {
    std::string s;
    s.reserve(depth * (open.size() + close.size()) + inner.size());
    for (size_t i = 0; i < depth; ++i) s += open;
    s += inner;
    for (size_t i = 0; i < depth; ++i) s += close;
    return s;
}

// A safetensors file whose header is the given text.
std::string safetensors_with_header(const std::string& header) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    return out + header;
}

std::string config_with(const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(read_file(kData + "/tiny-chat/config.json"));
    edit(j);
    return j.dump();
}

std::string error_of(const fm::Status& s) {
    return s.ok() ? std::string() : s.error();
}

const Loader kConfig = [](const fs::path& d) { return error_of(fm::ModelConfig::load(d).status()); };
const Loader kTokenizer = [](const fs::path& d) { return error_of(fm::Tokenizer::load_from_dir(d).status()); };
const Loader kModel = [](const fs::path& d) { return error_of(fm::Model::load(d, {}).status()); };
const Loader kWeights = [](const fs::path& d) { return error_of(fm::load_weights(d).status()); };
const Loader kChatFormat = [](const fs::path& d) {
    auto tokenizer = fm::Tokenizer::load_from_dir(d);
    if (!tokenizer) return "tokenizer: " + tokenizer.error();
    return error_of(fm::ChatFormat::load(d, **tokenizer).status());
};

// A valid snapshot of tiny-chat, as the CLI would save it, with the given metadata.
fm::StoredSnapshot tiny_chat_snapshot(const std::string& metadata) {
    auto w = fm::load_weights(kData + "/tiny-chat");
    auto backend = fm::make_cpu_backend(*w, 1);
    fm::GenerationSession session(*backend, nullptr, nullptr);
    fm::GenerationParams p;
    p.sampling.temperature = 0;
    p.max_new_tokens = 2;
    (void)session.complete({5, 6, 7}, p);
    return {fm::snapshot_fingerprint(*backend), session.snapshot(), metadata};
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
}

// Appends the CRC-32 the snapshot format ends with, so only the forged field is wrong.
std::vector<uint8_t> sealed(std::vector<uint8_t> bytes) {
    put<uint32_t>(bytes, fm::crc32(bytes.data(), bytes.size()));
    return bytes;
}

std::vector<uint8_t> snapshot_prefix() {
    std::vector<uint8_t> b{'F', 'M', 'S', 'S'};
    put<uint32_t>(b, 1);
    return b;
}

}  // namespace

class TestHostileFiles : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (!fm::testing::limit_address_space_to_2_gib()) qWarning("cannot limit the address space to 2 GiB");
    }

    void loaders_refuse_with_what_and_where_data() {
        QTest::addColumn<Files>("files");
        QTest::addColumn<Loader>("loader");
        QTest::addColumn<QString>("expected");
        const size_t deep = 200000;

        // Wrong JSON types: an error naming the file and the JSON path, not a type_error.
        QTest::newRow("quantization_config.load_in_4bit a string")
            << Files{{"config.json", config_with([](auto& j) {
                          j["quantization_config"] = {{"quant_method", "bitsandbytes"}, {"load_in_4bit", "yes"}};
                      })}}
            << kConfig << "config.json: quantization_config.load_in_4bit must be true or false, not a string";
        QTest::newRow("quantization_config.quant_method a number")
            << Files{{"config.json", config_with([](auto& j) {
                          j["quantization_config"] = {{"quant_method", 4}};
                      })}}
            << kConfig << "config.json: quantization_config.quant_method must be a string, not an integer";
        QTest::newRow("quantization_config.bnb_4bit_quant_type a list")
            << Files{{"config.json", config_with([](auto& j) {
                          j["quantization_config"] = {{"quant_method", "bitsandbytes"},
                                                      {"load_in_4bit", true},
                                                      {"bnb_4bit_quant_type", nlohmann::json::array({1})}};
                      })}}
            << kModel << "config.json: quantization_config.bnb_4bit_quant_type must be a string, not a list";
        QTest::newRow("quantization_config.bnb_4bit_use_double_quant a string")
            << Files{{"config.json", config_with([](auto& j) {
                          j["quantization_config"] = {{"quant_method", "bitsandbytes"},
                                                      {"load_in_4bit", true},
                                                      {"bnb_4bit_use_double_quant", "true"}};
                      })}}
            << kModel << "quantization_config.bnb_4bit_use_double_quant must be true or false, not a string";
        QTest::newRow("quantization_config a string")
            << Files{{"config.json", config_with([](auto& j) { j["quantization_config"] = "bnb"; })}} << kConfig
            << "config.json: quantization_config must be an object, not a string";
        QTest::newRow("tokenizer_config bos_token a number")
            << Files{{"tokenizer_config.json", R"({"bos_token": 5})"}} << kChatFormat
            << "tokenizer_config.json: bos_token must be a string";
        QTest::newRow("generation_config eos_token_id a string")
            << Files{{"generation_config.json", R"({"eos_token_id": "two"})"}} << kChatFormat
            << "generation_config.json: eos_token_id must be a token id";

        // Unbounded nesting: refused while parsing, before anything walks it.
        QTest::newRow("tokenizer.json 200,000 deep")
            << Files{{"tokenizer.json", nested("{\"model\":", "}", deep)}} << kTokenizer
            << "tokenizer.json: JSON nested more than 128 levels deep";
        QTest::newRow("tokenizer.json 200,000 deep lists")
            << Files{{"tokenizer.json", "{\"model\":{\"vocab\":" + nested("[", "]", deep) + "}}"}} << kModel
            << "tokenizer.json: JSON nested more than 128 levels deep";
        QTest::newRow("config.json 200,000 deep") << Files{{"config.json", nested("[", "]", deep)}} << kConfig
                                                  << "config.json: JSON nested more than 128 levels deep";
        QTest::newRow("tokenizer_config.json 200,000 deep")
            << Files{{"tokenizer_config.json", "{\"chat_template\":" + nested("[", "]", deep) + "}"}} << kChatFormat
            << "tokenizer_config.json: JSON nested more than 128 levels deep";
        QTest::newRow("generation_config.json 200,000 deep")
            << Files{{"generation_config.json", nested("{\"a\":", "}", deep)}} << kChatFormat
            << "generation_config.json: JSON nested more than 128 levels deep";
        QTest::newRow("safetensors header 200,000 deep")
            << Files{{"model.safetensors", safetensors_with_header("{\"x\":" + nested("[", "]", deep) + "}")}}
            << kWeights << "model.safetensors: header: JSON nested more than 128 levels deep";
        QTest::newRow("safetensors index 200,000 deep")
            << Files{{"model.safetensors.index.json", "{\"weight_map\":" + nested("{\"a\":", "}", deep) + "}"}}
            << kWeights << "model.safetensors.index.json: JSON nested more than 128 levels deep";
        QTest::newRow("truncated config.json") << Files{{"config.json", "{\"model_type\": \"falcon_mamba\", \"hidden"}}
                                               << kModel << "config.json: invalid JSON at byte";
    }

    void loaders_refuse_with_what_and_where() {
        QFETCH(Files, files);
        QFETCH(Loader, loader);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const fs::path dir = tmp.path().toStdString();
        for (const auto& entry : fs::directory_iterator(kData + "/tiny-chat"))
            fs::copy_file(entry.path(), dir / entry.path().filename());
        QCOMPARE(QString::fromStdString(loader(dir)), QString());  // the unbroken folder loads
        for (const auto& [name, bytes] : files) write_file(dir / name, bytes);
        const auto before = folder_digest(dir);
        const std::string error = loader(dir);
        QVERIFY2(QString::fromStdString(error).contains(expected), error.c_str());
        QVERIFY(folder_digest(dir) == before);
    }

    void forged_snapshots_are_refused_data() {
        QTest::addColumn<std::vector<uint8_t>>("bytes");
        QTest::addColumn<QString>("expected");

        // 24 bytes declaring a 4 GiB fingerprint: refused before it is allocated.
        auto huge_fingerprint = snapshot_prefix();
        put<uint32_t>(huge_fingerprint, 0xFFFFFFF0u);
        put<uint32_t>(huge_fingerprint, 0);
        QTest::newRow("huge fingerprint length")
            << sealed(huge_fingerprint) << "snapshot truncated while reading the fingerprint";

        // A text length of 2^63.
        auto huge_text = snapshot_prefix();
        put<uint32_t>(huge_text, 0);
        put<uint64_t>(huge_text, 0);
        put<uint64_t>(huge_text, uint64_t{1} << 63);
        QTest::newRow("huge text length") << sealed(huge_text) << "snapshot truncated while reading the text";

        // A state section whose dimensions overflow 64 bits when multiplied out, and one whose
        // dimensions fit but need more bytes than it holds.
        auto forged_state = [](int64_t layers, int64_t inner, int64_t conv, int64_t ssm, size_t body) {
            auto b = snapshot_prefix();
            put<uint32_t>(b, 0);  // fingerprint
            put<uint64_t>(b, 0);  // tokens
            put<uint64_t>(b, 0);  // text
            put<uint64_t>(b, 0);  // logits
            std::vector<uint8_t> state{'F', 'M', 'S', 'T'};
            put<uint32_t>(state, 1);
            for (int64_t d : {layers, inner, conv, ssm}) put<int64_t>(state, d);
            put<uint64_t>(state, 0);
            state.resize(state.size() + body);
            state = sealed(state);
            put<uint64_t>(b, state.size());
            b.insert(b.end(), state.begin(), state.end());
            put<uint64_t>(b, 0);  // metadata
            return sealed(b);
        };
        QTest::newRow("state dimensions overflow")
            << forged_state(int64_t{1} << 24, int64_t{1} << 24, int64_t{1} << 24, 0, 0)
            << "declares 16777216 layers x 16777216 channels x (16777216 + 0) values: more than any file can hold";
        QTest::newRow("state dimensions wrap to the right size")
            << forged_state(int64_t{1} << 24, int64_t{1} << 24, int64_t{1} << 16, int64_t{1} << 16, 0)
            << "more than any file can hold";
        QTest::newRow("state bigger than its bytes")
            << forged_state(64, 8192, 4, 16, 64) << "(41943092 bytes) but holds 116 bytes";
        QTest::newRow("state with a negative dimension") << forged_state(-1, 1, 1, 1, 0) << "negative dimension (-1)";
    }

    void forged_snapshots_are_refused() {
        QFETCH(std::vector<uint8_t>, bytes);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const fs::path path = tmp.path().toStdString() + "/forged.fmstate";
        write_file(path, std::string(bytes.begin(), bytes.end()));
        const auto before = folder_digest(tmp.path().toStdString());
        auto r = fm::load_snapshot_file(path);
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error()).contains(expected), r.error().c_str());
        QVERIFY2(QString::fromStdString(r.error()).startsWith(QString::fromStdString(path.string())),
                 r.error().c_str());
        QVERIFY(folder_digest(tmp.path().toStdString()) == before);
    }

    // `chat --load-state` with metadata of the wrong shapes: an error naming the file and the
    // JSON path, exit code 1, the state file untouched.
    void chat_state_metadata_of_wrong_types_data() {
        QTest::addColumn<std::string>("metadata");
        QTest::addColumn<QString>("expected");
        QTest::newRow("role a number") << std::string(R"({"messages": [{"role": 1, "content": "x"}]})")
                                       << "metadata: messages[0].role must be a string, not an integer";
        QTest::newRow("content an object")
            << std::string(R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": {}}]})")
            << "metadata: messages[1].content must be a string, not an object";
        QTest::newRow("message a string")
            << std::string(R"({"messages": ["hi"]})") << "metadata: messages[0] must be an object, not a string";
        QTest::newRow("messages a number")
            << std::string(R"({"messages": 3})") << "metadata: messages must be a list, not an integer";
        QTest::newRow("not an object") << std::string("[1, 2]") << "not a chat state";
        QTest::newRow("not JSON") << std::string("{\"messages\": [") << "metadata: invalid JSON at byte";
        QTest::newRow("deep") << "{\"messages\":" + nested("[", "]", 200000) + "}"
                              << "metadata: JSON nested more than 128 levels deep";
    }

    void chat_state_metadata_of_wrong_types() {
        QFETCH(std::string, metadata);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const std::string state = tmp.filePath("s.fmstate").toStdString();
        QVERIFY(fm::save_snapshot_file(state, tiny_chat_snapshot(metadata)).ok());
        const auto before = folder_digest(tmp.path().toStdString());
        std::ostringstream out, err;
        std::istringstream in("hello\n");
        const int code =
            fm::cli::run_cli({"chat", "--model", kData + "/tiny-chat", "--load-state", state, "-n", "1"}, out, err, in);
        QCOMPARE(code, 1);
        QVERIFY2(QString::fromStdString(err.str()).contains(QString::fromStdString(state) + ": " + expected) ||
                     QString::fromStdString(err.str()).contains(expected),
                 err.str().c_str());
        QVERIFY2(QString::fromStdString(err.str()).contains(QString::fromStdString(state)), err.str().c_str());
        QVERIFY(folder_digest(tmp.path().toStdString()) == before);
    }
};

QTEST_GUILESS_MAIN(TestHostileFiles)
#include "test_hostile_files.moc"
