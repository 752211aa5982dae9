"""Fine-tuning: task heads, a training loop, subword label alignment, QA spans.

- :mod:`~ctxembed.finetune.heads`      ``AutoModelFor{Sequence,Token}Classification`` / ``QuestionAnswering``
- :mod:`~ctxembed.finetune.training`   AdamW, warm-up/decay, clipping, dynamic padding, length bucketing
- :mod:`~ctxembed.finetune.alignment`  word labels on first pieces, -100 elsewhere, and back
- :mod:`~ctxembed.finetune.qa`         windows with a stride, best valid span, offsets to text
- :mod:`~ctxembed.finetune.feature_head` QA's feature-based way: a span head on cached frozen states
- :mod:`~ctxembed.finetune.tasks`      chapter 4's three tasks four ways; the shipped artefacts
- :mod:`~ctxembed.finetune.representations` what fine-tuning changed: linear CKA per layer, and
                                       the shipped tuned encoders as ``encoder=`` arguments
- :mod:`~ctxembed.finetune.contrastive` a sentence encoder's objective: in-batch negatives on
                                       WordNet (example, definition) pairs, the retrieval test

``python -m ctxembed.finetune train`` trains the shipped artefacts (seeded);
``python -m ctxembed.finetune contrastive`` the contrastive adapters.
"""

from .alignment import (
           LabelMismatchError,
           align_labels,
           encode_tagged,
           first_piece_labels,
           word_predictions,
)
from .heads import count_parameters, freeze_encoder, head_parameters, load_task_model
from .qa import (
           Answer,
           AnswerNotInContextError,
           best_span,
           decode_answers,
           prepare_qa_features,
)
from .training import TrainConfig, TrainLog, batch_order, predict, train

__all__ = [
           "Answer",
           "AnswerNotInContextError",
           "LabelMismatchError",
           "TrainConfig",
           "TrainLog",
           "align_labels",
           "batch_order",
           "best_span",
           "count_parameters",
           "decode_answers",
           "encode_tagged",
           "first_piece_labels",
           "freeze_encoder",
           "head_parameters",
           "load_task_model",
           "predict",
           "prepare_qa_features",
           "train",
           "word_predictions",
]
