// fm::Model, the engine's front door: one call loads a checkpoint folder; config.json is read
// once per load (counted from outside with inotify, so no counter lives in production code);
// errors name the file; sessions from the model generate like the CLI.

#include <sys/inotify.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

#include "inference/model/model.h"

namespace fs = std::filesystem;
using namespace fm;

namespace {

const fs::path kData = FM_TEST_DATA_DIR;

// Counts the times `file` is opened while `action` runs. Closes are watched too: inotify merges
// identical events that follow each other, and open-close-open-close keeps them apart.
template <typename F>
int count_opens(const fs::path& file, F&& action) {
    const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return -1;
    const int watch = inotify_add_watch(fd, file.c_str(), IN_OPEN | IN_CLOSE);
    if (watch < 0) {
        close(fd);
        return -1;
    }
    action();
    int opens = 0;
    alignas(inotify_event) char buffer[4096];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        for (ssize_t at = 0; at < n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
            if (event->mask & IN_OPEN) ++opens;
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
    close(fd);
    return opens;
}

// A template whose {% for %} is never closed.
const char* const kUnclosedTemplate = "{\"chat_template\": \"{% for m in messages %}{{ m.content }}\"}";

ModelOptions cpu_options() {
    ModelOptions options;
    options.backend = {BackendKind::Cpu, false, 1};
    return options;
}

void copy_folder(const fs::path& from, const fs::path& to) {
    for (const auto& entry : fs::directory_iterator(from)) fs::copy_file(entry.path(), to / entry.path().filename());
}

}  // namespace

class TestModel : public QObject {
    Q_OBJECT

private slots:
    void configIsReadOncePerLoad_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<bool>("quantize");
        QTest::newRow("chat checkpoint") << "tiny-chat" << false;
        QTest::newRow("chat checkpoint, 4-bit") << "tiny-chat" << true;
        QTest::newRow("bare checkpoint") << "checkpoints/tiny-bf16" << false;
        QTest::newRow("bitsandbytes 4-bit") << "checkpoints/tiny-bnb-nf4-double" << false;
    }
    void configIsReadOncePerLoad() {
        QFETCH(QString, folder);
        QFETCH(bool, quantize);
        const fs::path dir = kData / folder.toStdString();
        ModelOptions options = cpu_options();
        options.quantize_4bit = quantize;
        Result<std::unique_ptr<Model>> model = Error{"not loaded"};
        const int opens = count_opens(dir / "config.json", [&] { model = Model::load(dir, options); });
        QVERIFY2(model.ok(), model.error().c_str());
        QCOMPARE(opens, 1);
    }

    void assemblesEverything() {
        auto model = Model::load(kData / "tiny-chat", cpu_options());
        QVERIFY2(model.ok(), model.error().c_str());
        const Model& m = **model;
        QCOMPARE(m.config().vocab_size, int64_t(m.tokenizer()->vocab_size()));
        QVERIFY(m.chat_format() != nullptr);
        QCOMPARE(m.chat_format()->mode(), ChatMode::Chat);
        // generation_config.json's and config.json's stop ids both reach the chat format.
        QVERIFY(!m.chat_format()->stop_ids().empty());
        QCOMPARE(m.backend().name(), std::string("cpu (1 threads)"));
        QVERIFY(m.backend_fallback_reason().empty());
        QCOMPARE(m.weights().format, WeightFormat::Native);

        auto bare = Model::load(kData / "checkpoints/tiny-bf16", cpu_options());
        QVERIFY2(bare.ok(), bare.error().c_str());
        QVERIFY((*bare)->tokenizer() == nullptr);
        QVERIFY((*bare)->chat_format() == nullptr);
    }

    // The stop ids are the same whether config.json is parsed by the model or by ChatFormat.
    void stopIdsMatchTheStandaloneFormat() {
        auto model = Model::load(kData / "tiny-chat", cpu_options());
        QVERIFY(model.ok());
        auto standalone = ChatFormat::load(kData / "tiny-chat", *(*model)->tokenizer());
        QVERIFY(standalone.ok());
        QCOMPARE((*model)->chat_format()->stop_ids(), standalone->stop_ids());
        QCOMPARE((*model)->chat_format()->stop_strings(), standalone->stop_strings());
    }

    void sessionsGreedyDecodeLikeTheGolden() {
        // The golden continuation of tiny-bf16 (tests/data/checkpoints/golden.json), through a
        // session from the model.
        auto model = Model::load(kData / "checkpoints/tiny-bf16", cpu_options());
        QVERIFY(model.ok());
        std::ifstream in(kData / "checkpoints/golden.json");
        const auto golden = nlohmann::json::parse(in)["tiny-bf16"];
        auto session = (*model)->new_session();
        GenerationParams params;
        params.sampling.temperature = 0;
        params.sampling.repeat_penalty = 1.0f;
        params.max_new_tokens = static_cast<int32_t>(golden["greedy_continuation"].size());
        params.ignore_stop_ids = true;
        auto result = session->complete(golden["greedy_prompt"].get<std::vector<int32_t>>(), params);
        QVERIFY2(result.ok(), result.error().c_str());
        QCOMPARE(result->tokens, golden["greedy_continuation"].get<std::vector<int32_t>>());
    }

    // The file broken in a copy of tiny-chat; the error must name it.
    void errorsNameTheFile_data() {
        QTest::addColumn<QString>("broken");
        QTest::newRow("config not JSON") << "config.json";
        QTest::newRow("tokenizer not JSON") << "tokenizer.json";
        QTest::newRow("template does not parse") << "tokenizer_config.json";
        QTest::newRow("weights truncated") << "model.safetensors";
    }
    void errorsNameTheFile() {
        QFETCH(QString, broken);
        QTemporaryDir tmp;
        const fs::path dir = tmp.path().toStdString();
        copy_folder(kData / "tiny-chat", dir);
        const fs::path file = dir / broken.toStdString();
        if (broken == "tokenizer_config.json") {
            std::ofstream(file, std::ios::trunc) << kUnclosedTemplate;
        } else if (broken == "model.safetensors") {
            fs::resize_file(file, fs::file_size(file) / 2);
        } else {
            std::ofstream(file, std::ios::trunc) << "{ not json";
        }
        auto model = Model::load(dir, cpu_options());
        QVERIFY(!model.ok());
        QVERIFY2(QString::fromStdString(model.error()).contains(broken), model.error().c_str());
    }

    void requiredTokenizerIsChecked() {
        ModelOptions options = cpu_options();
        options.tokenizer = TokenizerPolicy::Required;
        auto model = Model::load(kData / "checkpoints/tiny-bf16", options);
        QVERIFY(!model.ok());
        QVERIFY2(model.error().find("tokenizer") != std::string::npos, model.error().c_str());
    }

    void cancelledLoadFails() {
        std::atomic<bool> cancel{true};
        ModelOptions options = cpu_options();
        options.cancel = &cancel;
        auto model = Model::load(kData / "tiny-chat", options);
        QVERIFY(!model.ok());
        QVERIFY2(model.error().find("cancelled") != std::string::npos, model.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
