"""The face gender network of tutorial 002 (chenlinzhong/gender-recognition).

Three blocks of a 3x3 'same' ReLU convolution (16, 32, 64 filters) and a 2x2
'same' max-pooling take a 112x92x3 face to 14x12x64 (56x46, 28x23, 14x12);
then Flatten (10752), Dense 512 and 128 (ReLU, each followed by dropout) and
a 2-way softmax: 5,595,042 parameters. The original uses dropout 0.4 and
Adam with learning rate 1e-5.
"""

from pycnn import layers, models


def faces_gender_cnn(input_shape=(112, 92, 3), num_classes=2, dropout=0.4, name="faces_gender_cnn"):
    """Conv16/32/64 + MaxPool blocks, Dense 512-128 with dropout, softmax (5,595,042 params)."""
    stack = [layers.Input(shape=input_shape)]
    for filters in (16, 32, 64):
        stack += [layers.Conv2D(filters, (3, 3), padding="same", activation="relu"),
                  layers.MaxPooling2D((2, 2), padding="same")]
    stack += [layers.Flatten(),
              layers.Dense(512, activation="relu"), layers.Dropout(dropout),
              layers.Dense(128, activation="relu"), layers.Dropout(dropout),
              layers.Dense(num_classes, activation="softmax")]
    return models.Sequential(stack, name=name)
