#pragma once
// How the controllers on the GUI thread ask an object on another thread (the inference worker,
// the streaming saver) to do something: the call is queued onto that object's thread and
// dropped if the object is gone by the time it would run.

#include <QMetaObject>
#include <QPointer>

#include <utility>

namespace fm::app {

// Runs call(object) on object's thread, later.
template <typename T, typename F>
void callOnItsThread(const QPointer<T>& object, F call) {
    QMetaObject::invokeMethod(
        object.data(),
        [object, call = std::move(call)] {
            if (object) call(object.data());
        },
        Qt::QueuedConnection);
}

}  // namespace fm::app
