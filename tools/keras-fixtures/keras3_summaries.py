# Keras 3.16 (torch backend, /work/shared/tools/real-keras) prints these summaries into a pipe (80 columns):
#   /usr/bin/python3 tools/keras-fixtures/keras3_summaries.py > test/CnnLstm.Functional.Tests/Models/KerasFixtures/keras3-summaries.txt
# Checked byte for byte by test/CnnLstm.Functional.Tests/BackendConsoleStyleTests.cs.
import keras
from keras import layers
inp = keras.Input((1, 3))
h = layers.Dropout(0.25)(inp)
h = layers.Conv1D(10, 1, activation="relu")(h)
h = layers.MaxPooling1D(1)(h)
h = layers.LSTM(70)(h)
m = keras.Model(inp, layers.Dense(1)(h))
m.summary()
m2 = keras.Sequential([keras.Input((100,)), layers.Embedding(20000, 128), layers.Dropout(0.25), layers.Conv1D(64, 5, activation="relu"), layers.MaxPooling1D(4), layers.LSTM(70), layers.Dense(1), layers.Activation("sigmoid")])
m2.summary()
a = keras.Input((3,)); b = keras.Input((4,))
c = layers.Concatenate()([layers.Dense(2)(a), layers.Dense(2)(b)])
m3 = keras.Model([a, b], layers.Dense(1)(c))
m3.summary()
