#pragma once
// The storage layer, exports and the models built on them report failures with the engine's one
// Status / Result type (inference/core/result.h): a locked, corrupt or too-new database never
// crashes the app, and the message may end up in an error banner. Messages are UTF-8
// std::strings there; these two helpers move them to and from the QStrings the app works in.

#include "inference/core/result.h"

#include <QString>

namespace fm {

inline Error toError(const QString& message) {
    return Error{message.toStdString()};
}

inline QString errorText(const Status& status) {
    return QString::fromStdString(status.error());
}

template <typename T>
QString errorText(const Result<T>& result) {
    return QString::fromStdString(result.error());
}

}  // namespace fm
