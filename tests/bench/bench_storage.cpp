// Storage benchmark: fills a database with realistic chat history, then times what the UI
// does with it: loading the sidebar (query + ConversationListModel population), searching,
// loading one conversation's branch, and saving a streamed reply.
//
//   bench_storage [--conversations N] [--messages M] [--runs R] [--db PATH]
//
// Prints one JSON line. Goals: open_list_ms < 200, search_ms < 100 (median per query).

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "ui/models/conversation_list_model.h"
#include "ui/models/message_list_model.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <vector>

using namespace fm;

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of this process, alongside wall time: on a loaded machine (shared CI runners,
// parallel builds) wall time mostly measures waiting for a core.
double cpuMilliseconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

std::vector<double>* g_cpuSink = nullptr;  // where millisecondsOf also records CPU time

double millisecondsOf(const std::function<void()>& work) {
    const double cpuStart = cpuMilliseconds();
    const auto start = Clock::now();
    work();
    const double wall = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (g_cpuSink) {
        g_cpuSink->push_back(cpuMilliseconds() - cpuStart);
    }
    return wall;
}

// Runs `work` and returns its wall time, recording its CPU time into `cpu`.
double timed(std::vector<double>& cpu, const std::function<void()>& work) {
    g_cpuSink = &cpu;
    const double wall = millisecondsOf(work);
    g_cpuSink = nullptr;
    return wall;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n == 0 ? 0.0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

double round2(double v) {
    return std::round(v * 100.0) / 100.0;
}

// Text with a word-frequency skew like real chats: a few very common words, a long tail of
// rarer ones (synthetic words built from syllables).
class TextGenerator {
public:
    explicit TextGenerator(unsigned seed) : rng_(seed) {
        for (const char* w :
             {"the",      "a",      "to",      "and",   "of",       "is",     "in",      "it",     "you",    "that",
              "for",      "on",     "with",    "this",  "can",      "be",     "as",      "are",    "model",  "code",
              "function", "data",   "example", "use",   "question", "answer", "python",  "memory", "file",   "error",
              "time",     "state",  "value",   "list",  "string",   "number", "weather", "recipe", "travel", "history",
              "music",    "garden", "bread",   "kayak", "chess",    "mamba"}) {
            words_.push_back(QString::fromLatin1(w));
        }
        const char* syllables[] = {"ka", "lo",  "mi",  "ter", "an",  "sol", "ve",  "ra",  "tun",
                                   "po", "lis", "dor", "en",  "qui", "zo",  "bel", "mar", "ti"};
        std::uniform_int_distribution<int> syllable(0, int(std::size(syllables)) - 1);
        std::uniform_int_distribution<int> length(2, 4);
        while (words_.size() < 4000) {
            QString word;
            for (int i = length(rng_); i > 0; --i) {
                word += QLatin1String(syllables[syllable(rng_)]);
            }
            words_.push_back(word);
        }
    }

    QString word() {
        // u^3 skews toward the front of the list (the common words).
        const double u = unit_(rng_);
        return words_[std::size_t(u * u * u * double(words_.size()))];
    }

    QString sentence(int minWords, int maxWords) {
        std::uniform_int_distribution<int> count(minWords, maxWords);
        QString text;
        for (int i = count(rng_); i > 0; --i) {
            if (!text.isEmpty()) {
                text += (unit_(rng_) < 0.08) ? QStringLiteral(". ") : QStringLiteral(" ");
            }
            text += word();
        }
        return text;
    }

    const QString& wordAt(std::size_t i) const { return words_[i]; }

private:
    std::mt19937 rng_;
    std::uniform_real_distribution<double> unit_{0.0, 1.0};
    std::vector<QString> words_;
};

int intOption(const QStringList& args, const QString& name, int fallback) {
    const qsizetype at = args.indexOf(name);
    return at >= 0 && at + 1 < args.size() ? args[at + 1].toInt() : fallback;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const int conversations = intOption(args, QStringLiteral("--conversations"), 1000);
    const int messagesPer = intOption(args, QStringLiteral("--messages"), 50);
    const int runs = std::max(1, intOption(args, QStringLiteral("--runs"), 7));
    QTemporaryDir tmp;
    const qsizetype dbAt = args.indexOf(QStringLiteral("--db"));
    const QString path =
        dbAt >= 0 && dbAt + 1 < args.size() ? args[dbAt + 1] : tmp.filePath(QStringLiteral("bench.sqlite"));

    Database db;
    if (Status opened = db.open(path); !opened) {
        std::fprintf(stderr, "bench_storage: %s\n", opened.error().c_str());
        return 1;
    }
    ConversationStore store(db);

    // ---- Fill: one transaction per conversation, as an import would do. -------------------
    TextGenerator text(42);
    const double insertMs = millisecondsOf([&] {
        for (int c = 0; c < conversations; ++c) {
            QList<NewMessage> messages;
            for (int m = 0; m < messagesPer; ++m) {
                NewMessage message;
                message.role = m % 2 ? MessageRole::Assistant : MessageRole::User;
                // Questions are short, answers a few paragraphs (~100-2500 characters).
                message.content = m % 2 ? text.sentence(20, 400) : text.sentence(4, 60);
                if (m % 2) {
                    message.tokens = {int(message.content.size() / 4), 200};
                }
                messages.append(message);
            }
            const Result<Conversation> added = store.importConversation(text.sentence(2, 6), {}, messages);
            if (!added) {
                std::fprintf(stderr, "bench_storage: %s\n", added.error().c_str());
                std::exit(1);
            }
        }
    });

    // ---- Sidebar: query + model population, as the model does when the app opens. --------
    std::vector<double> listTimes;
    std::vector<double> listCpu;
    int listed = 0;
    for (int run = 0; run < runs; ++run) {
        ConversationListModel model;
        listTimes.push_back(timed(listCpu, [&] { model.setStore(&store); }));
        listed = model.rowCount();
    }
    // A fresh connection (cold statement cache, WAL index mapped anew) for the first load.
    double coldOpenMs = 0;
    {
        Database fresh;
        coldOpenMs = millisecondsOf([&] {
            if (!fresh.open(path)) {
                return;
            }
            ConversationStore freshStore(fresh);
            ConversationListModel model;
            model.setStore(&freshStore);
        });
    }

    // ---- Search: what the sidebar filter runs per keystroke (limit 100). -------------------
    const QStringList queries{QStringLiteral("model"),      // very common word
                              QStringLiteral("the"),        // in nearly every message
                              QStringLiteral("kayak"),      // common-ish topic word
                              text.wordAt(900),             // mid-frequency
                              text.wordAt(3900),            // rare
                              QStringLiteral("ka"),         // 2-letter prefix
                              QStringLiteral("code err"),   // two words, prefix
                              QStringLiteral("\"NEAR(*")};  // hostile input
    std::vector<double> searchMedians;
    std::vector<double> searchCpuMedians;
    QJsonObject perQuery;
    int lastHits = 0;
    for (const QString& query : queries) {
        std::vector<double> times;
        std::vector<double> cpu;
        for (int run = 0; run < runs; ++run) {
            times.push_back(timed(cpu, [&] {
                Result<QList<SearchHit>> hits = store.search(query, 100);
                lastHits = hits ? int(hits->size()) : -1;
            }));
        }
        searchMedians.push_back(median(times));
        searchCpuMedians.push_back(median(cpu));
        perQuery.insert(query, QJsonObject{{QStringLiteral("ms"), round2(median(times))},
                                           {QStringLiteral("cpu_ms"), round2(median(cpu))},
                                           {QStringLiteral("hits"), lastHits}});
    }
    // The sidebar in search mode (query + snippets + model population).
    std::vector<double> filterTimes;
    {
        ConversationListModel model;
        model.setStore(&store);
        for (int run = 0; run < runs; ++run) {
            model.setFilter(QString());
            filterTimes.push_back(millisecondsOf([&] { model.setFilter(QStringLiteral("model")); }));
        }
    }

    // ---- One conversation: branch load into the message model; streamed-reply saves. ------
    const qint64 someConversation = store.listConversations(1)->first().id;
    std::vector<double> branchTimes;
    for (int run = 0; run < runs; ++run) {
        MessageListModel model;
        model.setStore(&store);
        branchTimes.push_back(millisecondsOf([&] { model.loadConversation(someConversation); }));
    }
    const qint64 reply = store.beginAssistantMessage(someConversation)->id;
    std::vector<double> streamTimes;
    QString partial;
    for (int run = 0; run < 20; ++run) {
        partial += text.sentence(10, 20);
        streamTimes.push_back(millisecondsOf([&] {
            if (!store.updateStreamingContent(reply, partial)) {
                std::fprintf(stderr, "bench_storage: %s\n", qPrintable(db.lastError()));
            }
        }));
    }
    const double finishMs = millisecondsOf([&] {
        (void)store.finishMessage(reply, MessageStatus::Complete, {100, 50}, partial);
    });

    QJsonObject result{
        {QStringLiteral("conversations"), conversations},
        {QStringLiteral("messages"), conversations * messagesPer},
        {QStringLiteral("listed"), listed},
        {QStringLiteral("insert_s"), round2(insertMs / 1000.0)},
        {QStringLiteral("db_mb"), round2(double(QFileInfo(path).size()) / (1024.0 * 1024.0))},
        {QStringLiteral("open_list_ms"), round2(median(listTimes))},
        {QStringLiteral("open_list_cpu_ms"), round2(median(listCpu))},
        {QStringLiteral("open_list_cold_ms"), round2(coldOpenMs)},
        {QStringLiteral("search_ms"), round2(median(searchMedians))},
        {QStringLiteral("search_cpu_ms"), round2(median(searchCpuMedians))},
        {QStringLiteral("search_worst_ms"), round2(*std::max_element(searchMedians.begin(), searchMedians.end()))},
        {QStringLiteral("search_sidebar_ms"), round2(median(filterTimes))},
        {QStringLiteral("search_queries"), perQuery},
        {QStringLiteral("load_branch_ms"), round2(median(branchTimes))},
        {QStringLiteral("streaming_update_ms"), round2(median(streamTimes))},
        {QStringLiteral("finish_message_ms"), round2(finishMs)},
        {QStringLiteral("runs"), runs},
    };
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return 0;
}
