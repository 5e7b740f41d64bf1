"""The privacy office: policy versions, complaints, data-broker actions, training, certification."""
